"""Machi: core system for a Japanese municipality's My Number affairs."""

__version__ = "0.1.0"
