"""烽火 fenghuo — technical monitoring, graded early warning, emergency response and a
built-in switch for AI services.

The package is cut by domain and layered; docs/architecture.md is the map to read first (the
loop, the layers, the import contracts that tests/test_architecture.py enforces). ``platform``
is the ground floor and imports no other package; ``registry`` knows which services exist and
how risky they are, ``control`` holds the switch, ``ledger`` proves what happened, ``checks``
looks at content; ``api/``, ``cli.py`` and ``models.py`` assemble everything.
"""

__version__ = "0.1.0"
