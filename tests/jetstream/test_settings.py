"""The JetStream keys of ``[storage]``: read from the file, overridden by the environment,
and a bad value is one line naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.config import ConfigError
from logsieve.sections import load_config
from logsieve.storage.jetstream import JetStreamOptions
from logsieve.storage.settings import STORAGE


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None):
    path = tmp_path / "logsieve.toml"
    path.write_text(text, encoding="utf-8")
    return STORAGE.of(load_config(path, environ={"HOME": str(tmp_path), **(environ or {})}))


def test_defaults_point_at_a_local_three_replica_cluster(tmp_path: Path) -> None:
    settings = load(tmp_path, '[storage]\nengine = "jetstream"\n')
    assert settings.engine == "jetstream"
    assert settings.jetstream == JetStreamOptions()
    assert settings.jetstream.replicas == 3
    assert settings.jetstream.partitions is None  # the namespace's own count
    assert settings.jetstream.urls == ("nats://127.0.0.1:4222",)


def test_every_key_is_read_from_the_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    settings = load(
        tmp_path,
        "[storage]\n"
        'engine = "jetstream"\n'
        'nats_urls = ["nats://a:4222", "tls://b:4222"]\n'
        "replicas = 1\n"
        "partitions = 6\n"
        'namespace = "prod-eu"\n'
        "timeout_seconds = 2.5\n"
        'nats_user = "ls"\n'
        'nats_password = "pw"\n'
        f'tls_ca_file = "{ca}"\n',
    )
    assert settings.jetstream == JetStreamOptions(
        urls=("nats://a:4222", "tls://b:4222"),
        replicas=1,
        partitions=6,
        namespace="prod-eu",
        timeout_seconds=2.5,
        user="ls",
        password="pw",
        tls_ca_file=str(ca),
    )


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[storage]\nengine = "sqlite"\nreplicas = 3\n',
        {
            "LOGSIEVE_STORAGE_ENGINE": "jetstream",
            "LOGSIEVE_STORAGE_NATS_URLS": "nats://x:1,nats://y:2",
            "LOGSIEVE_STORAGE_REPLICAS": "1",
            "LOGSIEVE_STORAGE_NATS_TOKEN": "s3cret",
            "LOGSIEVE_STORAGE_PARTITIONS": "3",
        },
    )
    assert settings.jetstream.partitions == 3
    assert settings.engine == "jetstream"
    assert settings.jetstream.urls == ("nats://x:1", "nats://y:2")
    assert settings.jetstream.replicas == 1
    assert settings.jetstream.token == "s3cret"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("replicas = 7", "[storage] replicas must be an integer from 1 to 5 (got 7)"),
        ("partitions = 0", "[storage] partitions must be an integer from 1 to 64 (got 0)"),
        ("partitions = 65", "[storage] partitions must be an integer from 1 to 64 (got 65)"),
        ('nats_urls = "http://a"', "[storage] nats_urls must be nats:// or tls:// URLs"),
        ("nats_urls = []", "[storage] nats_urls must be a URL or a list of URLs"),
        ('namespace = "a.b"', "[storage] namespace must be 1-32 letters, digits or '-'"),
        ('nats_url = "nats://a"', "nats_url"),
    ],
)
def test_a_bad_value_is_one_line(tmp_path: Path, line: str, expected: str) -> None:
    with pytest.raises(ConfigError) as failure:
        load(tmp_path, f'[storage]\nengine = "jetstream"\n{line}\n')
    message = str(failure.value)
    assert "\n" not in message and expected in message


def test_a_password_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failure:
        load(tmp_path, '[storage]\nnats_password = ""\n')
    assert "nats_password must be a non-empty string (got a string)" in str(failure.value)
