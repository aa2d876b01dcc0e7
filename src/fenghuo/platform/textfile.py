"""Read a user's text file without guessing silently: UTF-8 first, GB18030 second, and every
line that decodes under neither is reported by number instead of being turned into mojibake.

Public Chinese banks come in both encodings (the JADE v3 files are GB18030), and a bank that
quietly lost its characters would still "run" and give a meaningless pass rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, with where it is, so a person can go and fix it."""

    where: str  # "file:line" or a request id
    message: str
    kind: str = "input"  # input | encoding | endpoint | judge

    def to_dict(self) -> dict:
        return {"where": self.where, "message": self.message, "kind": self.kind}

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class Decoded:
    text: str
    encoding: str
    problems: list[Problem]


def decode_file(path: str | Path, encoding: str | None = None) -> Decoded:
    """The file's text and the encoding used; undecodable lines are dropped and reported."""
    path = Path(path)
    raw = path.read_bytes()
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in candidates:
        try:
            return Decoded(raw.decode(enc), enc, [])
        except (UnicodeDecodeError, LookupError):
            continue
    # Neither works for the whole file: keep the lines that decode, report the others.
    enc = encoding or "utf-8"
    kept: list[str] = []
    problems: list[Problem] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            kept.append(line.decode(enc))
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(
                    f"{path}:{number}",
                    f"行无法按 {enc} 解码，已跳过 / line is not valid {enc} (byte {exc.start}); skipped",
                    "encoding",
                )
            )
            kept.append("")  # keep line numbers stable for later messages
    text = "\n".join(kept)
    return Decoded(text.removeprefix("\ufeff"), enc, problems)
