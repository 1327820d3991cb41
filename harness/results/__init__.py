"""Where results live and how they are written: the layout (the one place paths are made), results.json I/O with
merging, atomic writes, and per-attempt submission records."""
