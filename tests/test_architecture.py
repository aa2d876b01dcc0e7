"""The import contracts of docs/architecture.md, checked on the source with ``ast``.

Every ``import`` and ``from … import`` counts, wherever it is written (inside functions, under
``if TYPE_CHECKING``), and so does a string naming a fenghuo module that is handed to
``importlib.import_module`` (the app's and the CLI's mount lists). Written with ``ast`` rather
than import-linter because it needs no dependency and the rules are a dozen lines.

1. ``platform`` imports no other fenghuo package.
2. Packages are layered (LAYERS, bottom first); a package imports only packages below it, and
   only the top (the app, the CLI, the demo, models/migrations) imports the rest freely — while
   nothing below imports the top.
3. No cycle between packages.
4. The pure cores import no framework, not even through another fenghuo module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "fenghuo"

# Bottom first. Each package may import only packages that come before it.
LAYERS = [
    "platform",    # config, database engine, clock, roles and tokens, readers with limits, web plumbing
    "replay",      # recorded model answers read back and served again (a test double of a model)
    "checks",      # content checks shared by the guard, evaluation and the corpus audit
    "ledger",      # the audit chain every domain writes to
    "corpus",      # training-data audit: checks over a corpus, runs in the ledger; evaluation reads its results
    "registry",    # jurisdictions, providers, services, grading, scope, tokens
    "control",     # the switch; registering a service (it seeds the switch)
    "monitor",     # events → indicators
    "alerts",      # rules → graded warnings, silences, notifications
    "scale",       # PostgreSQL/NATS transports, replicas
    "guard",       # runtime SDK and gateway (its NATS side uses scale)
    "evaluation",  # safety test banks against a model endpoint
    "response",    # plans, incidents, reports, deadlines
    "recovery",    # the road back from a pause
    "retention",   # what is kept ≥ 6 months, and pruning that refuses younger records (reads every domain)
    "filing",      # the CAC filing attachments fenghuo holds (evaluation reports, lexicon, question set)
]
# Assembly: may import anything; nothing in LAYERS may import these.
TOP = {"api", "console", "demo", "cli", "models", "migrations", "backend", "__init__", "__main__"}

# Pure cores: no framework, directly or through any fenghuo module they import.
PURE_CORES = [
    "fenghuo.control.transitions",
    "fenghuo.registry.grading",
    "fenghuo.ledger.chain",
    "fenghuo.alerts.rules",
    "fenghuo.alerts.lifecycle",
    "fenghuo.response.plans",
    "fenghuo.response.deadlines",
    "fenghuo.response.incident_grades",
    "fenghuo.platform.durations",
    "fenghuo.platform.validation",
    "fenghuo.platform.roles",
]
# Known upward imports being removed elsewhere, as (file, imported module). An entry that no
# longer occurs fails test_known_exceptions_still_occur, so this list can only shrink.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()  # none left: every import points downward
FRAMEWORKS = {"sqlalchemy", "fastapi", "starlette", "uvicorn", "httpx", "click", "alembic", "nats", "rich"}


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, src: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield mod, node.lineno
            for alias in node.names:  # `from fenghuo.x import y` where y is a module
                yield f"{mod}.{alias.name}", node.lineno
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text.startswith(f"{src.name}.") and all(p.isidentifier() for p in text.split(".")):
                yield text, node.lineno


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "fenghuo":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def package_edges(src: Path) -> dict[tuple[str, str], list[str]]:
    """(from package, to package) → where, for imports between different fenghuo packages."""
    modules = {module_name(p, src) for p in src.rglob("*.py")}
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(src.rglob("*.py")):
        me = module_name(path, src)
        a = package_of(me)
        for target, line in imports_of(path, src):
            if target not in modules:
                target = target.rpartition(".")[0]  # `from fenghuo.x import name`: the module is fenghuo.x
                if target not in modules:
                    continue
            b = package_of(target)
            if b is None or a == b or target == "fenghuo":  # `from fenghuo import __version__`
                continue
            where = f"{path.relative_to(src.parent)}:{line} imports {target}"
            if where not in edges.setdefault((a, b), []):
                edges[(a, b)].append(where)
    return edges


def layer_violations(edges: dict[tuple[str, str], list[str]], layers: list[str], top: set[str]) -> list[str]:
    out = []
    for (a, b), where in sorted(edges.items()):
        if a in top:
            continue
        if a not in layers:
            out.append(f"package {a!r} is in no layer (add it to LAYERS or TOP): {where[0]}")
        elif b in top or b not in layers:
            out.append(f"{a} imports the assembly/unknown package {b}: {where[0]}")
        elif layers.index(b) > layers.index(a):
            out.append(f"upward import {a} → {b} ({b} sits above {a}): " + "; ".join(where[:3]))
    return out


def cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def framework_reach(module: str, src: Path) -> list[str]:
    """Chains from ``module`` to a framework import, following fenghuo imports."""
    files = {module_name(p, src): p for p in src.rglob("*.py")}
    seen: set[str] = set()
    out: list[str] = []
    todo = [(module, [module])]
    while todo:
        mod, chain = todo.pop()
        if mod in seen or mod not in files:
            continue
        seen.add(mod)
        for target, line in imports_of(files[mod], src):
            top_name = target.split(".")[0]
            if top_name in FRAMEWORKS:
                out.append(" → ".join(chain) + f" → {target} (line {line})")
            elif top_name == "fenghuo" and target in files:
                todo.append((target, [*chain, target]))
    return out


# -- the contracts -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edges() -> dict[tuple[str, str], list[str]]:
    return package_edges(SRC)


def test_every_package_has_a_place() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {p.stem for p in SRC.glob("*.py")}
    assert packages - set(LAYERS) - TOP == set()


def test_platform_imports_no_other_fenghuo_package(edges) -> None:
    bad = [w for (a, b), where in edges.items() if a == "platform" for w in where]
    assert bad == [], "\n".join(bad)


def _file_and_target(where: str) -> tuple[str, str]:
    place, _, target = where.partition(" imports ")
    return place.rsplit(":", 1)[0], target


def _known(where: str) -> bool:
    file, target = _file_and_target(where)
    return (file, target) in KNOWN_EXCEPTIONS or (file.startswith("fenghuo/checks/") and ("fenghuo/checks/*", target) in KNOWN_EXCEPTIONS)


def _without_known(edges):
    out = {}
    for k, where in edges.items():
        rest = [w for w in where if not _known(w)]
        if rest:
            out[k] = rest
    return out


def test_known_exceptions_still_occur(edges) -> None:
    seen = {_file_and_target(w) for where in edges.values() for w in where}
    seen |= {("fenghuo/checks/*", t) for f, t in seen if f.startswith("fenghuo/checks/")}
    assert seen >= KNOWN_EXCEPTIONS, f"fixed, remove from KNOWN_EXCEPTIONS: {KNOWN_EXCEPTIONS - seen}"


def test_packages_import_only_downward(edges) -> None:
    bad = layer_violations(_without_known(edges), LAYERS, TOP)
    assert bad == [], "\n".join(bad)


def test_no_cycle_between_packages(edges) -> None:
    # The assembly modules may name each other (the demo runs `python -m fenghuo.cli`); every
    # other edge counts.
    assert cycles({k: v for k, v in _without_known(edges).items() if not (k[0] in TOP and k[1] in TOP)}) == []


@pytest.mark.parametrize("module", PURE_CORES)
def test_pure_cores_import_no_framework(module: str) -> None:
    assert (SRC.parent / Path(*module.split("."))).with_suffix(".py").exists(), f"{module} is gone: update PURE_CORES"
    bad = framework_reach(module, SRC)
    assert bad == [], "\n".join(bad)


# -- the checker itself can fail -----------------------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "fenghuo"
    for rel, text in {"__init__.py": "", **files}.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return src


def test_checker_sees_upward_imports_inside_functions_and_cycles(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "platform/__init__.py": "",
        "platform/db.py": "def f():\n    from fenghuo.ledger import store\n",
        "ledger/__init__.py": "",
        "ledger/store.py": "from fenghuo.platform import db\n",
        "api/__init__.py": "",
        "api/app.py": "ROUTES = ['fenghuo.ledger.store']\n",
    })
    edges = package_edges(src)
    assert ("platform", "ledger") in edges and ("api", "ledger") in edges
    assert any("upward import platform → ledger" in v for v in layer_violations(edges, ["platform", "ledger"], {"api"}))
    assert cycles(edges) == [["ledger", "platform"]]


def test_checker_follows_fenghuo_imports_to_a_framework(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "core/__init__.py": "",
        "core/rules.py": "from fenghuo.core import helper\n",
        "core/helper.py": "import sqlalchemy\n",
    })
    [chain] = framework_reach("fenghuo.core.rules", src)
    assert chain.startswith("fenghuo.core.rules → fenghuo.core.helper → sqlalchemy")
