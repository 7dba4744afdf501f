"""logsieve: turn cloud logs into timely, trustworthy alerts."""

__version__ = "0.1.0"
