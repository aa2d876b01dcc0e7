"""Moved to :mod:`fenghuo.platform.textfile` (issue 13: evaluation↔replay cycle). This name is
kept only until ``checks/labelled.py`` (being written in issue 12) imports the new place; do not
use it in new code."""

from fenghuo.platform.textfile import Problem, decode_file

__all__ = ["Problem", "decode_file"]
