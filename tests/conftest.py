"""Shared fixtures: where the labelled research data lives (read in place, never copied)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FACEFILE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with a message where it is missing."""
    if not (SHARED_DATA / "lfw_dev").is_dir():
        pytest.skip(f"labelled face data not found at {SHARED_DATA} (../shared/data beside the project)")
    return SHARED_DATA
