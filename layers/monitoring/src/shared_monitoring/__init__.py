"""Structured logging, EMF metrics and X-Ray tracing for Lambda handlers (aws-lambda-powertools)."""

from shared_monitoring.monitor import DEFAULT_NAMESPACE, Monitor, monitored, xray_available

__version__ = "0.2.0"

__all__ = ["DEFAULT_NAMESPACE", "Monitor", "__version__", "monitored", "xray_available"]
