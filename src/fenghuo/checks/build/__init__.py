"""`make models`: build the artefacts shipped inside the package from ../shared/data.

``python -m fenghuo.checks.build [--data DIR] [--out DIR] [--only STEP ...]`` runs each step
module of ``STEPS`` in order and writes ``<out>/manifest.json`` (``out`` defaults to the
package's ``fenghuo/checks/shipped/`` directory, ``data`` to ``$FENGHUO_DATA`` or
``../shared/data``).

Interface of a step module (engineers add theirs to ``STEPS``)::

    # src/fenghuo/checks/build/<step>.py
    def build(data_dir: Path, out_dir: Path) -> dict:
        '''Write this step's artefacts into out_dir; return its manifest entry.'''
        return {
            "inputs": [file_record(data_dir, data_dir / "classifier/cold/train.csv"), ...],
            "artefacts": [artefact_record(out_dir, out_dir / "classifier.npz"), ...],
            "settings": {...},   # everything needed to rebuild the same artefact
            "figures": {...},    # measured on data the step did not train on
        }

Rules for a step: deterministic (fixed seeds, sorted inputs) so a rebuild gives the same
artefacts; read only files under ``data_dir`` whose licence allows training (see
shared/data/README.md) and record every one of them with ``file_record`` (path relative to
``data_dir`` + sha256), so ``tests/checks/test_models*.py`` can check that the shipped
artefacts were built from the data a reader has; keep artefacts small (they are committed).
A step module listed in ``STEPS`` that does not exist yet is skipped with a note, so steps
can land independently; ``--only`` rebuilds some steps and keeps the other entries of an
existing manifest as they are.

The manifest: ``{"format": "fenghuo-shipped-1", "steps": {"<step>": <entry>, ...}}``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path

MANIFEST_FORMAT = "fenghuo-shipped-1"
# Step name -> module; run in this order.
STEPS: dict[str, str] = {
    "classifier": "fenghuo.checks.build.classifier",  # D1: multi-category text classifier
    "lexicon": "fenghuo.checks.build.lexicon",  # D3: curated lexicon
    "context": "fenghuo.checks.build.context",  # D2: answer-in-context judge
    "classifier_en": "fenghuo.checks.build.classifier_en",  # the English classifier (max_han_share)
}


def shipped_dir() -> Path:
    """The package directory the artefacts live in (inside the source tree when editable)."""
    return Path(__file__).resolve().parent.parent / "shipped"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_record(data_dir: Path, path: Path) -> dict:
    """A training input as the manifest records it: path relative to the data dir, sha256, size."""
    path = Path(path)
    return {"path": path.relative_to(data_dir).as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def artefact_record(out_dir: Path, path: Path) -> dict:
    path = Path(path)
    return {"path": path.relative_to(out_dir).as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def load_manifest(out_dir: Path | None = None) -> dict:
    path = (out_dir or shipped_dir()) / "manifest.json"
    if not path.is_file():
        return {"format": MANIFEST_FORMAT, "steps": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def step_module(name: str):
    """The step's module, or None when it has not landed yet."""
    modname = STEPS[name]
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name == modname:
            return None
        raise


def run(data_dir: Path, out_dir: Path | None = None, only: list[str] | None = None, log=print) -> dict:
    """Run the steps (all, or ``only``) and write the manifest; returns it."""
    data_dir = Path(data_dir).resolve()
    out_dir = Path(out_dir or shipped_dir())
    if not data_dir.is_dir():
        raise ValueError(f"{data_dir}: no such data directory; set FENGHUO_DATA or pass --data / 数据目录不存在")
    unknown = [s for s in only or [] if s not in STEPS]
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(unknown)}; known: {', '.join(STEPS)} / 未知构建步骤")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out_dir)
    manifest["format"] = MANIFEST_FORMAT
    steps = manifest.setdefault("steps", {})
    for name in STEPS:
        if only and name not in only:
            continue
        mod = step_module(name)
        if mod is None:
            log(f"build: step {name} not present yet ({STEPS[name]}); skipped / 构建步骤尚未提供，已跳过")
            continue
        log(f"build: {name} ...")
        steps[name] = mod.build(data_dir, out_dir)
        # Written after each step so a failing later step keeps the finished ones recorded.
        (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest
