"""layersmith: own your shared AWS Lambda layers."""

__version__ = "0.1.0"
