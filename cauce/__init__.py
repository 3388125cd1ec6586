"""Cauce: the command line, the local stack and the pytest plugin."""

__version__ = "0.1.0"
