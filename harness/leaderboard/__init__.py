"""Leaderboard: a markdown table and a static site (sortable, filterable, one page per model, a comparison page)
built from `results/*/results.json`, with each model's RewardBench rank joined from a bundled snapshot.

    python -m harness.leaderboard.build --results results --out leaderboard/site

    from harness.leaderboard.build import build, visible
"""
