"""Safety evaluation: test banks, runs against model endpoints, judges, verdicts and reports."""
