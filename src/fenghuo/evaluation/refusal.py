"""Re-export: the refusal detector lives in :mod:`fenghuo.checks.refusal` (the shared lower
layer), where the guard's answer judge uses it too."""

from fenghuo.checks.refusal import EN_RULES, ZH_RULES, RefusalDetector, RefusalResult

__all__ = ["EN_RULES", "ZH_RULES", "RefusalDetector", "RefusalResult"]
