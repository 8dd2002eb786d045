"""Subject-rights commands: forget, export-person, opt-out, audit. Registered on the main `facefile` group."""
from __future__ import annotations

from .cli import main  # noqa: F401
