"""Optional native kernels, built next to the pure-Python code they speed up.

Everything else about the package lives in pyproject.toml; this file only lists the C
extensions. Each is ``optional``: on a machine without a C compiler or Python headers the
build prints a warning and the package falls back to its numpy/Python path, which computes
the same results (tests check both paths agree). An extension whose source file does not
exist yet is skipped, so a kernel can be added by adding its ``.c`` file here.

Why C at all: on 50-character chat messages and 1,000-event ingest batches the cost is
per-call overhead of numpy and the interpreter (~0.3-1 µs a call), not arithmetic; these
loops were measured too slow in numpy (docs/benchmarks.md). The kernels use only the CPython
buffer protocol, so they need no numpy headers to build.
"""

from pathlib import Path

from setuptools import Extension, setup

_HERE = Path(__file__).parent
_KERNELS = {
    # module name: source file (relative to this directory)
    "fenghuo.checks._clfnative": "src/fenghuo/checks/classifier/_clfnative.c",
    "fenghuo.checks._textnative": "src/fenghuo/checks/_textnative.c",
    "fenghuo.monitor._ingestnative": "src/fenghuo/monitor/_ingestnative.c",
}


def _headers(src: str) -> list[str]:
    """The ``.h`` files beside a kernel's source, as its ``depends``: setuptools compares only
    the sources' times, so an edited header would otherwise leave the built module stale."""
    return [str(h.relative_to(_HERE)) for h in sorted((_HERE / src).parent.glob("*.h"))]


setup(
    ext_modules=[
        Extension(name, [src], depends=_headers(src), optional=True, extra_compile_args=["-O2"])
        for name, src in _KERNELS.items()
        if (_HERE / src).exists()
    ]
)
