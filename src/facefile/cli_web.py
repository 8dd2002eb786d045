"""`facefile serve`: the local People UI. Registered on the main `facefile` group."""
from __future__ import annotations

from .cli import main  # noqa: F401
