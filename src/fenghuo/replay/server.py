"""The replay upstream served from a thread (tests, benchmarks, the demo); the serving code
itself is shared with the control plane in ``fenghuo.platform.serving``."""

from fenghuo.platform.serving import BackgroundServer, free_port, serving

__all__ = ["BackgroundServer", "free_port", "serving"]
