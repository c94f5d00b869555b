"""Rapport: an open-source CRM with analytical CRM built in."""

__version__ = "0.1.0"
