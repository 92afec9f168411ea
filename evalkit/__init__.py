"""evalkit: decide whether a fine-tuned model is ready to ship."""

__version__ = "0.1.0"
