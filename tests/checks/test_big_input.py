"""A 10 MB single line through the whole pipeline, and a 2 MB one through `fenghuo scan`: linear time.

The command's test prints every one of the line's findings as JSON (180,000 at 2 MB), which is
most of its time; 2 MB against 20 KB keeps the 100× step that tells linear from quadratic at a
fifth of the 10 MB run's minute.

Process CPU time, not wall time, so other work on a shared machine does not count; 100× the
text should cost ~100× (linear), quadratic would be ~10,000×, and the bound sits between."""

import time

import numpy as np
from click.testing import CliRunner

from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.train import train
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.pii import PIICheck
from fenghuo.checks.pipeline import Pipeline
from fenghuo.cli import root

UNIT = "今天天气很好*我们去赌 博，电话13800138000，邮箱li.lei@example.com 然后赌博机。" * 10


def _cpu(fn, repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return sorted(times)[len(times) // 2]


def test_pipeline_on_a_ten_megabyte_line_is_linear(tmp_path):
    rude, kind = [f"你这个蠢货滚开{i}" for i in range(30)], [f"谢谢你的帮助{i}" for i in range(30)]
    model = train(rude + kind, np.array([1] * 30 + [0] * 30)).save(tmp_path / "m.npz")
    p = Pipeline([LexiconCheck(words={"赌博": ("gambling",)}, allow=["赌博机"]), PIICheck(), ClassifierCheck(model)])
    small, big = UNIT * 300, UNIT * 30000
    assert len(big.encode()) >= 10_000_000
    n_small = len(p.scan(small).findings)
    t_small = _cpu(lambda: p.scan(small), 5)
    t0 = time.process_time()
    v = p.scan(big)
    t_big = time.process_time() - t0
    cats = {c: sum(f.category == c for f in v.findings) for c in ("gambling", "pii.mobile", "pii.email")}
    assert cats == {"gambling": 300000, "pii.mobile": 300000, "pii.email": 300000}
    assert len(v.findings) in (100 * n_small, 100 * n_small - 99)  # the classifier finding is one per text
    assert t_big < 2000 * max(t_small, 1e-3), (t_big, t_small)


def test_fenghuo_scan_on_a_two_megabyte_stdin_line_is_linear():
    small, big = (UNIT * 60 + "\n").encode(), (UNIT * 6000 + "\n").encode()
    assert len(big) >= 2_000_000
    run = CliRunner().invoke
    # every finding printed (scan --json caps them at 100 a text by default)
    args = ["scan", "-", "--json", "--max-findings", "100000000"]
    run(root, args, input=small)  # warm-up: imports, table building
    results = {}

    def go(data, key):
        results[key] = run(root, args, input=data)

    t_small = _cpu(lambda: go(small, "small"), 3)
    t_big = _cpu(lambda: go(big, "big"))
    assert results["small"].exit_code == results["big"].exit_code == 1  # 赌博 blocks
    assert results["big"].output.count('"category": "gambling"') == 100 * results["small"].output.count('"category": "gambling"')
    assert t_big < 2000 * max(t_small, 1e-3), (t_big, t_small)
