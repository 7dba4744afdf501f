"""``[console] allowed_hosts``: the names besides IP addresses and localhost the console answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from logsieve.app import create_app
from logsieve.config import ConfigError
from logsieve.console.settings import CONSOLE, ConsoleSettings
from logsieve.sections import load_config
from tests.console.conftest import BASE, console_config, sign_in


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logsieve.toml"
    path.write_text(text)
    return path


def test_allowed_hosts_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[console]\nallowed_hosts = ["LogSieve", "logs.example"]\n')
    assert CONSOLE.of(load_config(path, environ={})).allowed_hosts == ("logsieve", "logs.example")
    overridden = load_config(path, environ={"LOGSIEVE_CONSOLE_ALLOWED_HOSTS": "a.example, b"})
    assert CONSOLE.of(overridden).allowed_hosts == ("a.example", "b")
    assert CONSOLE.of(load_config(None, environ={})).allowed_hosts == ()


@pytest.mark.parametrize(
    ("value", "words"),
    [('"logsieve"', "must be a list of host names"),
     ('["http://logsieve:4588"]', "without scheme, port or path")],
)  # fmt: skip
def test_a_wrong_value_is_one_clear_line(tmp_path: Path, value: str, words: str) -> None:
    path = config_file(tmp_path, f"[console]\nallowed_hosts = {value}\n")
    with pytest.raises(ConfigError, match=words):
        load_config(path, environ={})


def test_a_configured_name_reaches_the_console(tmp_path: Path) -> None:
    config = dataclasses.replace(
        console_config(tmp_path / "data"), sections={"console": ConsoleSettings(("logsieve",))}
    )
    with TestClient(create_app(config), base_url=BASE) as client:
        sign_in(client)
        named = {"host": "logsieve:4588"}
        assert client.get("/console/header", headers=named).status_code == 200
        other = {"host": "other:4588"}
        assert client.get("/console/header", headers=other).status_code == 403
