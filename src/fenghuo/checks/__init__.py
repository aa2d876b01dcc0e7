"""Content checks shared by the guard, the safety evaluation and the training-data audit.

Every check takes text and returns a :class:`~fenghuo.checks.base.Verdict`; see ``base``.
"""

from fenghuo.checks.base import Action, Check, Finding, Verdict

__all__ = ["Action", "Check", "Finding", "Verdict"]
