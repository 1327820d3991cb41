"""rm-harness: reward-model interpretability by exhaustive, exact scoring of vocabularies and item lists."""

__version__ = "0.1.0"
