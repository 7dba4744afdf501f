"""Fixtures for the Kinesis tests: a boto3 client on the shared server, fresh streams, and an
in-process service on a temporary store with a clock the test moves."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from logsieve.kinesis import KinesisContext, KinesisService
from logsieve.storage.streams_sqlite import SqliteStreamStore
from tests.server import Server, client

ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def kinesis(server: Server):
    """A boto3 Kinesis client signed with the server's key pair, no retries (botocore's
    ``max_attempts`` counts retries, so 0 means one attempt)."""
    return client(server, "kinesis", retries=0)


@pytest.fixture
def new_stream(kinesis) -> Iterator[Callable[..., str]]:
    """Create uniquely named streams (deleted after the test); returns the name."""
    created: list[str] = []

    def create(shards: int | None = 1, **kwargs: Any) -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        if shards is not None:
            kwargs["ShardCount"] = shards
        kinesis.create_stream(StreamName=name, **kwargs)
        created.append(name)
        return name

    yield create
    for name in created:
        with contextlib.suppress(kinesis.exceptions.ResourceNotFoundException):
            kinesis.delete_stream(StreamName=name)


def code(err: pytest.ExceptionInfo[Exception]) -> str:
    return err.value.response["Error"]["Code"]  # type: ignore[attr-defined]


def message(err: pytest.ExceptionInfo[Exception]) -> str:
    return err.value.response["Error"]["Message"]  # type: ignore[attr-defined]


def md5_int(key: str) -> int:
    """AWS's shard routing key, computed here without the server's code."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)


def owning_shard(shards: list[dict[str, Any]], hash_key: int) -> str:
    """The shard whose advertised HashKeyRange holds ``hash_key``."""
    owners = [
        s["ShardId"]
        for s in shards
        if int(s["HashKeyRange"]["StartingHashKey"])
        <= hash_key
        <= int(s["HashKeyRange"]["EndingHashKey"])
    ]
    assert len(owners) == 1, f"{len(owners)} shards claim hash key {hash_key}"
    return owners[0]


class Clock:
    """Milliseconds since the epoch, moved by the test."""

    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStreamStore]:
    opened = SqliteStreamStore(tmp_path / "kinesis.db")
    yield opened
    opened.close()


@pytest.fixture
def service(store: SqliteStreamStore, clock: Clock) -> KinesisService:
    return KinesisService(KinesisContext(store, "us-east-1", ACCOUNT, clock))
