"""Small time-series charts as inline SVG (no library, nothing fetched): a line over the
buckets of one monitoring window, with its last value written beside it. Pure: numbers in,
markup out; every number is formatted by us, so nothing a user typed reaches the SVG."""

from __future__ import annotations

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 240, 48, 2


def fmt(v: float, kind: str) -> str:
    if kind == "rate":
        return f"{v * 100:.1f}%"
    if kind == "ms":
        return f"{v:.0f} ms"
    return f"{v:.0f}"


def sparkline(points: list[tuple[float, float]], kind: str, span: float, now: float, label: str) -> tuple[Markup, str]:
    """``points``: (bucket start, value) oldest first over the last ``span`` seconds to ``now``."""
    last = fmt(points[-1][1], kind) if points else "—"
    top = max([p[1] for p in points] + [1.0 if kind == "rate" else 0.0]) or 1.0
    if kind == "rate":
        top = max(top, 0.05)  # a flat 0 % line sits on the floor, small rates still show

    def xy(t: float, v: float) -> str:
        x = PAD + (WIDTH - 2 * PAD) * max(0.0, min(1.0, (t - (now - span)) / span))
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (v / top)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(t, v) for t, v in points)
    title = f"{label}: {last}"
    body = (f'<polyline points="{line}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>' if len(points) > 1 else
            "".join(f'<circle cx="{xy(t, v).split(",")[0]}" cy="{xy(t, v).split(",")[1]}" r="2" fill="#1f6feb"/>' for t, v in points))
    return Markup(
        f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{Markup.escape(title)}">'
        f'<title>{Markup.escape(title)}</title>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#8b949e" stroke-width="0.5"/>'
        f'{body}</svg>'
    ), last
