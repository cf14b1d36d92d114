"""Frontdoor: the contact-centre core (CTI)."""

__version__ = "0.1.0"
