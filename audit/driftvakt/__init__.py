"""driftvakt: harden hosts to the regional baseline and audit them for drift."""

__version__ = "0.1.0"
