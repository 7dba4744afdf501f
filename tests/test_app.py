"""The composition root: what ``create_app`` opens, it closes, on shutdown and on a failed start."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from logsieve.app import create_app
from logsieve.config import Config
from logsieve.errors import ConfigError
from logsieve.storage import datadir

# Threads that only open stores and the Lambda runtime start (the event log's checkpointer,
# the runtime's reaper of idle workers).
OWNED = ("logsieve-checkpoint", "lambda-reaper")


def owned_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(OWNED)]


def test_shutdown_closes_everything_and_frees_the_data_dir(tmp_path: Path) -> None:
    before = owned_threads()
    app = create_app(Config(data_dir=tmp_path / "data"))

    async def serve_and_stop() -> None:
        async with app.router.lifespan_context(app):
            assert len(owned_threads()) > len(before)

    asyncio.run(serve_and_stop())
    assert owned_threads() == before
    datadir.claim(tmp_path / "data").release()  # the lock was given back


def test_a_failed_start_closes_what_it_had_opened(tmp_path: Path) -> None:
    before = owned_threads()
    bad_smtp = Config(data_dir=tmp_path / "data", smtp_url="smtp://host:notaport")
    with pytest.raises(ConfigError, match="SMTP URL"):
        create_app(bad_smtp)
    assert owned_threads() == before
    datadir.claim(tmp_path / "data").release()
