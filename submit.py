"""Audit a reward model and publish its interpretability metrics: `python submit.py --model ORG/NAME`."""

import sys

from harness.cli.submit import main

if __name__ == "__main__":
    sys.exit(main())
