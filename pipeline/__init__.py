"""Pānui: feeds and an attributed archive of official announcements."""

__version__ = "0.1.0"
PRODUCT = "Panui"
