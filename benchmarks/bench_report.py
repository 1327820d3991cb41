"""The figures the benchmark suites share with the session: benchmark name -> one-run ratios (see conftest.py)."""

from __future__ import annotations

REPORT: dict[str, dict] = {}
