"""Shared plumbing: configuration, paths, database, clock, YAML with line numbers, i18n."""
