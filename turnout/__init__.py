"""Turnout: retire a legacy SOAP service bus one operation at a time."""

__version__ = "0.1.0"
