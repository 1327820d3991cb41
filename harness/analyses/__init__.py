"""Analyses: pure functions over score tables, registered by name (no model access)."""
