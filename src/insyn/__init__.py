"""Insyn: compliance analytics and evidence for a Data Protection Officer."""

__version__ = "0.1.0"
