"""The [delivery] and [storage] sections and [[firehose]] tables of logsieve.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.config import ConfigError
from logsieve.destinations.firehose import FirehoseStream
from logsieve.sections import load_config
from logsieve.storage.factory import ENGINES
from logsieve.storage.settings import STORAGE, StorageSettings
from logsieve.subscriptions.settings import DeliverySettings


def load(tmp_path: Path, text: str):
    path = tmp_path / "logsieve.toml"
    path.write_text(text)
    return load_config(path, environ={"HOME": str(tmp_path)})


def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.delivery == DeliverySettings()
    assert config.delivery.linger_seconds < 0.1  # well under 100 ms, as promised
    assert config.delivery.retry_window_seconds == 86_400  # AWS retries for 24 hours
    assert config.firehose == ()


def test_delivery_values(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "[delivery]\nlinger_seconds = 0\nretry_base_seconds = 0.05\nretry_window_seconds = 2\n"
        "max_attempts = 3\n",
    )
    assert config.delivery == DeliverySettings(
        linger_seconds=0, retry_base_seconds=0.05, retry_window_seconds=2, max_attempts=3
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[delivery]\nlinger = 1\n", "unknown key 'linger' in [delivery]; did you mean"),
        ('[delivery]\nlinger_seconds = "fast"\n', "linger_seconds must be a number from 0"),
        ("[delivery]\nmax_attempts = 1.5\n", "max_attempts must be an integer"),
        ("[delivery]\nmax_payload_bytes = 2000000\n", "use at most 1000000"),
        ("[[firehose]]\nname = 'a b'\ndirectory = 'x'\n", "name must be 1-64 letters"),
        ("[[firehose]]\nname = 'a'\n", "must be a directory path"),
        ("[[firehose]]\nname = 'a'\ndirectory = 'x'\nbuffer_size_mb = 500\n", "from 1 to 128"),
        ("[[firehose]]\nname = 'a'\ndirectory = 'x'\nsize = 5\n", "unknown key 'size'"),
        ("[firehose]\nname = 'a'\n", "must be [[firehose]] tables"),
        (
            "[[firehose]]\nname = 'a'\ndirectory = 'x'\n[[firehose]]\nname = 'a'\n"
            "directory = 'y'\n",
            "declared twice",
        ),
    ],
)
def test_mistakes_are_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as failure:
        load(tmp_path, text)
    assert expected in str(failure.value)
    assert "\n" not in str(failure.value)


def test_firehose_streams_resolve_directories_against_the_config_file(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "[[firehose]]\nname = 'archive'\ndirectory = 'out/archive'\nbuffer_size_mb = 1\n"
        "buffer_interval_seconds = 0\n",
    )
    assert config.firehose == (FirehoseStream("archive", tmp_path / "out/archive", 1 << 20, 0),)


# --- [storage] ----------------------------------------------------------------------------------


def test_storage_engine_defaults_to_sqlite_and_is_read_from_the_file(tmp_path: Path) -> None:
    assert STORAGE.of(load(tmp_path, "")) == StorageSettings(engine="sqlite")
    assert load(tmp_path, '[storage]\nengine = "sqlite"\n').storage.engine == "sqlite"


def test_an_unknown_storage_engine_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failure:
        load(tmp_path, '[storage]\nengine = "jetstreem"\n')
    message = str(failure.value)
    assert "\n" not in message
    assert f'[storage] engine must be one of {", ".join(ENGINES)} (got "jetstreem")' in message
    assert all(engine in message for engine in ENGINES)


def test_storage_engine_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "logsieve.toml"
    path.write_text('[storage]\nengine = "sqlite"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as failure:
        load_config(path, environ={"LOGSIEVE_STORAGE_ENGINE": "mysql"})
    assert str(failure.value).startswith("environment variable LOGSIEVE_STORAGE_ENGINE must be")
    assert str(failure.value).endswith(", or unset it")
    config = load_config(path, environ={"LOGSIEVE_STORAGE_ENGINE": "sqlite"})
    assert STORAGE.of(config).engine == "sqlite"


def test_unknown_storage_key_suggests_engine(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'engin' in \[storage\]; did you mean"):
        load(tmp_path, '[storage]\nengin = "sqlite"\n')
