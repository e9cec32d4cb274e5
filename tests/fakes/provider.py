"""Placeholder; the gateway helper replaces it with the fake provider fixture."""
