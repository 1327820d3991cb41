"""Reports: results.json (versioned schema), figures and the per-model HTML report."""
