"""What changed between two audits: rank agreement, movers and headline-metric deltas with intervals
(compute.py), read from two audits' bound score tables (audits.py)."""
