"""The version of upstack."""

__version__ = "0.1.0"
