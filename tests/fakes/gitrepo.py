"""Placeholder; the repo helper replaces it with git repository fixtures."""
