"""Structured logging, metrics and tracing for Lambda handlers."""

__version__ = "0.1.0"
