"""``logsieve storage copy`` refuses, in one line and before touching anything, what it cannot
do: no source database, a running source server, a target that is not JetStream, two targets.
(The copy itself: tests/cluster_api/test_storage_copy.py, tests/storage/test_copy.py.)"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from logsieve.cli import main
from logsieve.cli.storage_copy import stopped
from logsieve.storage.datadir import claim


def _copy(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["storage", "copy", *args])
    return result.exit_code, result.output.strip()


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "data"
    source.mkdir()
    (source / "logsieve.db").touch()
    return source


def test_a_directory_without_a_database_is_refused(tmp_path: Path) -> None:
    code, out = _copy("--from", str(tmp_path), "--to-nats-urls", "nats://127.0.0.1:4222")
    assert code == 1
    assert out == f"Error: {tmp_path} holds no logsieve.db: not a SQLite data directory"


def test_a_source_in_use_by_a_server_is_refused(tmp_path: Path) -> None:
    source = _source(tmp_path)
    held = claim(source)
    try:
        code, out = _copy("--from", str(source), "--to-nats-urls", "nats://127.0.0.1:4222")
    finally:
        held.release()
    assert code == 1
    assert out.startswith("Error: ") and out.endswith("; stop that server before copying")


def test_a_target_config_on_sqlite_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "target.toml"
    config.write_text('[storage]\nengine = "sqlite"\n')
    code, out = _copy("--from", str(_source(tmp_path)), "--to", str(config))
    assert code == 1
    assert out == (
        f'Error: {config}: [storage] engine is "sqlite"; the copy goes to engine = "jetstream"'
    )


def test_exactly_one_target_is_needed(tmp_path: Path) -> None:
    source = str(_source(tmp_path))
    config = tmp_path / "t.toml"
    config.write_text('[storage]\nengine = "jetstream"\n')
    for args in ([], ["--to", str(config), "--to-nats-urls", "nats://127.0.0.1:4222"]):
        code, out = _copy("--from", source, *args)
        assert code == 2
        assert out.endswith("Error: give one of --to CONFIG or --to-nats-urls URLS")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_cluster_stops_the_copy_in_one_line(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{_free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(_source(tmp_path)),
         "--to-nats-urls", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"Error: the NATS cluster at {url} is unreachable: ")
    assert "check that it runs" in line and line.endswith("then run the copy again (it resumes)")


def test_a_cluster_without_quorum_is_named_as_such() -> None:
    from nats.errors import TimeoutError as NatsTimeout

    line = stopped(NatsTimeout(), "nats://a:4222")
    assert line.startswith("the NATS cluster at nats://a:4222 did not answer (TimeoutError)")
    assert "lost its quorum" in line
