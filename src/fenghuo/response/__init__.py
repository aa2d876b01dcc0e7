"""Emergency response (应急响应): plans that act on warnings, incidents with statutory
reporting clocks, and the reports a regulator takes.

- ``plans`` / ``library`` / ``simulate`` — YAML plans, their checker, which plan governs a
  service, and the one pure function that says what a plan does about a warning;
- ``executor`` — carries plan steps out through the switch (actor role ``system``);
- ``incidents`` / ``deadlines`` / ``clocks`` / ``reports`` — grading, timelines, deadline
  profiles, the clocks and the reports;
- ``accountability`` — the record computed from the ledger.
"""
