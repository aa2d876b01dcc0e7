"""Versioned reporting-deadline profiles (see deadlines.py)."""
