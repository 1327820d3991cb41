"""Where the repository is, for tests at any depth under tests/ (they mirror the packages in subfolders)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
