"""Detection artefacts shipped with fenghuo, built by `make models` (fenghuo.checks.build).

``manifest.json`` records, per build step, each input file (path relative to the shared data
directory + sha256), the settings and the figures measured on held-out data. A package so that
setuptools' package-data includes the artefacts in wheels.
"""
