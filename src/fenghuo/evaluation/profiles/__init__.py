"""Built-in threshold profiles (YAML)."""
