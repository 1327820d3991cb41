"""Shared readers and writers that every package may import (nothing here imports the rest of `harness` beyond
`harness.errors`): hostile bytes read safely (`untrusted`), YAML without anchors (`safe_yaml`), crash-safe writes
(`atomic`) and output locations checked up front (`outputs`)."""
