"""Scoring: exact-id response sets, the cached scan, the on-disk score tables, parity and sharding."""
