"""The data directory: private to the server's user, and used by one server at a time.

Real ``logsieve serve`` processes: a second server on a directory in use refuses to start with
one clear line (before it binds its port), and a SIGKILLed server's lock is gone with it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from logsieve.demo import datadir as demo_datadir
from logsieve.errors import ConfigError
from tests.server import Server, client, free_port
from tests.storage.serving import exit_or_serve, serve


def test_a_second_server_on_the_same_data_directory_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Server(data).start()
    try:
        port = free_port()
        second = serve(data, port)
        try:
            outcome = exit_or_serve(second, port)
        finally:
            if second.poll() is None:
                second.kill()
            out, err = second.communicate(timeout=10)
        assert outcome == "exited", "a second server started on a data directory in use"
        assert second.returncode != 0
        assert first.process is not None
        lines = [line for line in err.strip().splitlines() if line]
        assert len(lines) == 1, err  # one line, no traceback
        assert (
            f"data directory {data} is in use by another logsieve server "
            f"(pid {first.process.pid}); stop it or use another --data-dir"
        ) in lines[0]
        assert "Uvicorn running" not in err + out  # it never got as far as binding the port
        # The first server is unharmed.
        logs = client(first)
        logs.create_log_group(logGroupName="/still/here")
        # After a SIGKILL (no shutdown code runs), the lock is gone with the process.
        first.kill()
        third = Server(data).start()
        try:
            groups = client(third).describe_log_groups()["logGroups"]
            assert [g["logGroupName"] for g in groups] == ["/still/here"]
        finally:
            third.stop()
    finally:
        first.stop()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_its_databases_are_private(tmp_path: Path) -> None:
    """A directory created 0755 with a database left 0644 (as an older version, or a umask of
    022, made them) is tightened to 0700; every database, WAL and shared-memory file is 0600."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    sqlite3.connect(data / "logsieve.db").close()
    os.chmod(data / "logsieve.db", 0o644)
    old_umask = os.umask(0o022)  # the server inherits a permissive umask
    try:
        server = Server(data).start()
    finally:
        os.umask(old_umask)
    try:
        logs = client(server)
        logs.create_log_group(logGroupName="/private")
        logs.create_log_stream(logGroupName="/private", logStreamName="s")
        logs.put_log_events(
            logGroupName="/private",
            logStreamName="s",
            logEvents=[{"timestamp": time.time_ns() // 1_000_000, "message": "secret"}],
        )
        kinesis = client(server, "kinesis")
        kinesis.create_stream(StreamName="private", ShardCount=1)
        client(server, "sns").create_topic(Name="private")
        assert mode(data) == 0o700
        databases = sorted(data.glob("*.db"))
        assert {p.name for p in databases} >= {"logsieve.db", "kinesis.db", "sns.db", "outbox.db"}
        sidecars = sorted(data.glob("*.db-wal")) + sorted(data.glob("*.db-shm"))
        assert sidecars, "no WAL files while the server runs"
        loose = {p.name: oct(mode(p)) for p in databases + sidecars if mode(p) != 0o600}
        assert loose == {}, f"files readable by others: {loose}"
        others = [p for p in data.iterdir() if p.is_file() and p.suffix in (".lock", ".json")]
        loose = {p.name: oct(mode(p)) for p in others if mode(p) & 0o077}
        assert loose == {}, f"files readable by others: {loose}"
    finally:
        server.stop()


def test_the_demo_will_not_empty_a_directory_a_server_uses(tmp_path: Path) -> None:
    """``logsieve demo`` empties its directory on each run; never under a running server."""
    data = tmp_path / "demo"
    data.mkdir()
    (data / demo_datadir.MARKER).write_text("from an earlier demo\n")
    server = Server(data).start()
    try:
        with pytest.raises(ConfigError, match="in use by another logsieve server"):
            demo_datadir.prepare(data)
        assert (data / "logsieve.db").exists()
    finally:
        server.kill()
    assert server.process is not None and server.process.returncode == -signal.SIGKILL
    assert demo_datadir.prepare(data) == data  # free again once the server is gone
