"""upstack: a research log that always knows why.

The package root stays import-light: capture from the command line and from
experiment code must start fast, so heavier modules are imported on use.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
