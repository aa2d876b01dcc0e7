"""The guard: where fenghuo touches live traffic.

``Guard`` (``fenghuo.guard.core``) is the in-process SDK; ``fenghuo gateway``
(``fenghuo.guard.gateway``) is the same engine behind an OpenAI-compatible HTTP endpoint.
Both obey the switch from a local cache (``state``), check input and output (``checking``),
label AI output (``labels``) and report every call (``telemetry``).
"""
