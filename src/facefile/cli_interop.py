"""Interoperability commands: write-xmp and friends. Registered on the main `facefile` group."""
from __future__ import annotations

from .cli import main  # noqa: F401
