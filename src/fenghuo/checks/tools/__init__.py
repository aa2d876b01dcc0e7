"""Maintenance scripts that regenerate packaged tables; not imported at run time."""
