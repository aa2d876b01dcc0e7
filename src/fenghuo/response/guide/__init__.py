"""Versioned incident grading guides (see grading_guide.py)."""
