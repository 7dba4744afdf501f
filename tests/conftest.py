"""Shared fixtures: where the sample data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def samples() -> Path:
    return REPO / "samples"
