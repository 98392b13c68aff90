"""The team's shared Lambda code (fleshed out in the layer-contents issue)."""

__version__ = "0.1.0"
