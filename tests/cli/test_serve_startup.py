"""``logsieve serve`` checks everything before it says ``listening``.

A user reads the last line a command prints: "listening" must mean the server is up, and a
mistake must be one clear line and a non-zero exit, never a traceback after the announcement.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.serving import UserServer, serve_fresh, user_env
from tests.server import free_port


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    server = UserServer(["serve", *args], user_env(tmp_path / "home"), tmp_path).start()
    try:
        return server.wait_exit(timeout=60), server.output
    finally:
        server.stop()


def test_port_in_use_is_one_line_and_no_announcement(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = _run(tmp_path, "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert code != 0, output
    assert "listening" not in output and "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert f"port {port} is in use" in errors[0] and "--port" in errors[0], output


def test_config_error_found_while_building_is_reported_before_any_announcement(
    tmp_path: Path,
) -> None:
    config = tmp_path / "logsieve.toml"
    config.write_text('[smtp]\nurl = "smtp://mail.example.com:notaport"\n')
    code, output = _run(
        tmp_path, "--config", str(config), "--port", str(free_port()),
        "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    assert code != 0, output
    assert "listening" not in output and "Traceback" not in output, output
    assert "Error: SMTP URL" in output and "invalid port" in output, output


def test_listening_means_answering(tmp_path: Path) -> None:
    """The announcement comes once the socket is bound and the app started: the first request
    right after it is answered (no polling)."""
    import httpx

    server = serve_fresh(tmp_path)
    try:
        url = server.wait_listening(poll=False)
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        assert "Generated a key pair" in server.output.split("logsieve listening")[0]
    finally:
        server.stop()


@pytest.mark.parametrize("under", ["a-file", "/dev/null"])
def test_unusable_data_directory_is_one_line(tmp_path: Path, under: str) -> None:
    """Even with credentials from the environment (nothing is written before the databases)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    parent = blocker if under == "a-file" else Path(under)
    server = UserServer(
        ["serve", "--port", str(free_port()), "--data-dir", str(parent / "data")],
        user_env(tmp_path / "home", {"LOGSIEVE_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE01",
                                     "LOGSIEVE_SECRET_ACCESS_KEY": "s"}),
        tmp_path,
    ).start()  # fmt: skip
    try:
        code, output = server.wait_exit(timeout=60), server.output
    finally:
        server.stop()
    assert code != 0 and "Traceback" not in output and "listening" not in output, output
    (line,) = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "data directory" in line and "--data-dir" in line, output
