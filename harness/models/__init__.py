"""Model registry, loading (Hub id or local folder) and the Scorer that turns token ids into rewards."""
