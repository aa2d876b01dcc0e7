"""Safety evaluation: test banks, runs against model endpoints, judges, verdicts and reports.

The one entry point other domains need is :func:`load_run_verdict`, which a recovery step uses
to attach a passing run as its verification; everything else is reached through the CLI.
"""

from __future__ import annotations


def load_run_verdict(run_id: str, base=None) -> tuple[bool, dict]:
    """(passed, summary) of run ``run_id``; see :func:`fenghuo.evaluation.report.load_run_verdict`."""
    from fenghuo.evaluation.report import load_run_verdict as _load

    return _load(run_id, base)


__all__ = ["load_run_verdict"]
