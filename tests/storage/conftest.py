"""The storage contract suite: every test taking ``stores`` runs once per engine.

Only "sqlite" today; the JetStream engine (a later issue) joins ``ENGINES`` and runs the same
tests unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.storage.factory import ENGINES, Stores, open_stores


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stores(engine: str, tmp_path: Path) -> Stores:
    return open_stores(tmp_path / "data", engine)
