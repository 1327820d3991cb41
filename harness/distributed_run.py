"""Distributed launch glue for the CLI: join torchrun/accelerate's process group and pick this rank's device."""

from __future__ import annotations

import argparse

from harness.scoring import distributed


def maybe_init(args: argparse.Namespace) -> None:
    if distributed.init_from_env() and args.device == "auto":
        args.device = distributed.local_device()
