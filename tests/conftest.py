"""Shared fixtures and test settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# CI must be reproducible: the same examples every run. Locally, hypothesis explores freely.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def samples() -> Path:
    return REPO / "samples"
