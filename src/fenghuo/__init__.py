"""烽火 fenghuo — technical monitoring, graded early warning, emergency response and a
built-in switch for AI services.

The package is cut by domain (see docs/architecture.md): ``registry`` knows which services
exist and how risky they are, ``control`` holds the switch, ``ledger`` proves what happened,
``checks`` looks at content, ``platform`` is the shared plumbing.
"""

__version__ = "0.1.0"
