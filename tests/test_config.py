"""Config loading, validation messages, generated credentials and the help users paste.

Every test passes ``environ`` explicitly and keeps files under ``tmp_path``: the real home
directory and the developer's environment never leak in.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from logsieve.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    Config,
    ConfigError,
    Credential,
    credential_help,
    ensure_credentials,
)
from logsieve.sections import load_config

FULL_TOML = """
[server]
host = "0.0.0.0"
port = 9000
data_dir = "{data_dir}"

[aws]
region = "eu-west-2"
account_id = "000011112222"

[[credentials]]
access_key_id = "AKIAFILE"
secret_access_key = "file-secret"

[[credentials]]
access_key_id = "AKIAOTHER"
secret_access_key = "other-secret"

[logs]
retention_check_seconds = 5
max_subscription_filters = 3
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home and a working directory with no logsieve.toml in it."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path / "home"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path | None = None, environ: dict[str, str] | None = None, **overrides) -> str:
    """The ConfigError message, checked to be the one line the CLI prints."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides=overrides or None, environ=environ or {})
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- sources and precedence -------------------------------------------------------------------


def test_defaults_without_file_or_environment(home: Path) -> None:
    config = load_config(environ={"HOME": str(home)})
    assert config == Config(
        host="127.0.0.1",
        port=DEFAULT_PORT,
        data_dir=home / ".logsieve",
        region="us-east-1",
        account_id="123456789012",
        credentials=(),
        retention_check_seconds=60.0,
        max_subscription_filters=2,
    )
    assert DEFAULT_PORT == 4588
    assert Path("~/.logsieve") == DEFAULT_DATA_DIR


def test_config_class_defaults_are_laptop_friendly() -> None:
    config = Config()
    assert (config.host, config.port, config.credentials) == ("127.0.0.1", 4588, ())
    assert config.data_dir == Path(os.path.expanduser("~/.logsieve"))


def test_file_values(tmp_path: Path, home: Path) -> None:
    data = tmp_path / "data"
    path = write(tmp_path / "conf" / "logsieve.toml", FULL_TOML.format(data_dir=data))
    config = load_config(path, environ={"HOME": str(home)})
    assert config.host == "0.0.0.0"
    assert config.port == 9000
    assert config.data_dir == data
    assert config.region == "eu-west-2"
    assert config.account_id == "000011112222"
    assert config.credentials == (
        Credential("AKIAFILE", "file-secret"),
        Credential("AKIAOTHER", "other-secret"),
    )
    assert config.retention_check_seconds == 5.0
    assert isinstance(config.retention_check_seconds, float)
    assert config.max_subscription_filters == 3


def test_partial_file_keeps_other_defaults(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "logsieve.toml", "[server]\nport = 4000\n")
    config = load_config(path, environ={"HOME": str(home)})
    assert config.port == 4000
    assert config.host == "127.0.0.1"
    assert config.data_dir == home / ".logsieve"


def test_logsieve_toml_in_working_directory_is_found(home: Path) -> None:
    write(Path.cwd() / "logsieve.toml", "[server]\nport = 4001\n")
    assert load_config(environ={"HOME": str(home)}).port == 4001


def test_logsieve_config_variable_names_the_file(tmp_path: Path, home: Path) -> None:
    write(Path.cwd() / "logsieve.toml", "[server]\nport = 4001\n")
    named = write(tmp_path / "elsewhere.toml", "[server]\nport = 4002\n")
    environ = {"HOME": str(home), "LOGSIEVE_CONFIG": str(named)}
    assert load_config(environ=environ).port == 4002
    # An explicit path argument beats the variable.
    assert load_config(Path.cwd() / "logsieve.toml", environ=environ).port == 4001


def test_environment_overrides_file(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "logsieve.toml", FULL_TOML.format(data_dir=tmp_path / "data"))
    environ = {
        "HOME": str(home),
        "LOGSIEVE_HOST": "localhost",
        "LOGSIEVE_PORT": "8080",
        "LOGSIEVE_DATA_DIR": str(tmp_path / "envdata"),
        "LOGSIEVE_REGION": "ap-southeast-1",
        "LOGSIEVE_ACCOUNT_ID": "999988887777",
        "LOGSIEVE_ACCESS_KEY_ID": "AKIAFILE",
        "LOGSIEVE_SECRET_ACCESS_KEY": "env-secret",
    }
    config = load_config(path, environ=environ)
    assert (config.host, config.port) == ("localhost", 8080)
    assert config.data_dir == tmp_path / "envdata"
    assert (config.region, config.account_id) == ("ap-southeast-1", "999988887777")
    # The variable pair adds a credential, replacing a file entry with the same key id.
    assert config.secret_for("AKIAFILE") == "env-secret"
    assert config.secret_for("AKIAOTHER") == "other-secret"
    assert len(config.credentials) == 2


def test_environment_credential_without_file(home: Path) -> None:
    environ = {"LOGSIEVE_ACCESS_KEY_ID": "AKIAENV", "LOGSIEVE_SECRET_ACCESS_KEY": "s3cret"}
    assert load_config(environ={"HOME": str(home), **environ}).credentials == (
        Credential("AKIAENV", "s3cret"),
    )


def test_empty_environment_variables_count_as_unset(home: Path) -> None:
    config = load_config(environ={"HOME": str(home), "LOGSIEVE_PORT": "", "LOGSIEVE_CONFIG": ""})
    assert config.port == DEFAULT_PORT


def test_overrides_beat_environment_and_none_is_ignored(tmp_path: Path, home: Path) -> None:
    environ = {"HOME": str(home), "LOGSIEVE_PORT": "8080", "LOGSIEVE_HOST": "localhost"}
    config = load_config(
        overrides={"port": 9999, "host": None, "data_dir": tmp_path / "flag", "region": None},
        environ=environ,
    )
    assert config.port == 9999
    assert config.host == "localhost"
    assert config.data_dir == tmp_path / "flag"
    assert config.region == "us-east-1"


def test_unknown_override_is_a_programming_error(home: Path) -> None:
    with pytest.raises(TypeError, match="prot"):
        load_config(overrides={"prot": 1}, environ={"HOME": str(home)})


def test_relative_data_dir_is_relative_to_the_config_file(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "conf" / "logsieve.toml", '[server]\ndata_dir = "state/../data"\n')
    config = load_config(path, environ={"HOME": str(home)})
    assert config.data_dir == tmp_path / "conf" / "data"


def test_relative_data_dir_from_environment_is_relative_to_cwd(home: Path) -> None:
    config = load_config(environ={"HOME": str(home), "LOGSIEVE_DATA_DIR": "here"})
    assert config.data_dir == Path.cwd() / "here"


def test_tilde_uses_the_given_home(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "logsieve.toml", '[server]\ndata_dir = "~/logs"\n')
    assert load_config(path, environ={"HOME": str(home)}).data_dir == home / "logs"


# --- errors -----------------------------------------------------------------------------------


def test_explicit_missing_file(tmp_path: Path) -> None:
    message = error_for(tmp_path / "nope.toml")
    assert "nope.toml" in message and "does not exist" in message


def test_missing_file_from_variable(tmp_path: Path, home: Path) -> None:
    message = error_for(environ={"LOGSIEVE_CONFIG": str(tmp_path / "gone.toml")})
    assert "LOGSIEVE_CONFIG" in message and "gone.toml" in message


def test_config_path_is_a_directory(tmp_path: Path) -> None:
    assert "is not a file" in error_for(tmp_path)


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "logsieve.toml", '[server]\nport = = 3\nhost = "x"\n')
    message = error_for(path)
    assert str(path) in message
    assert "invalid TOML" in message and "line 2" in message


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "logsieve.toml"
    path.write_bytes(b'[server]\nhost = "\xff"\n')
    assert "UTF-8" in error_for(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Typos in sections and keys are caught and named, with a suggestion and the valid set.
        (
            "[sever]\nport = 1\n",
            [
                "unknown section [sever]",
                "did you mean 'server'?",
                "[aws], [cluster], [console], [credentials], [delivery], [logs], [server], [smtp], "
                "[sns], [storage], plus",
            ],
        ),
        (
            "[server]\nprot = 1\n",
            ["unknown key 'prot' in [server]", "did you mean 'port'?", "host, port, data_dir"],
        ),
        ("port = 4000\n", ["outside any section", "move it under [server]"]),
        ("server = 3\n", ["must be a section [server]"]),
        # Port: an integer 1-65535, not a string, float or boolean.
        ('[server]\nport = "4588"\n', ["[server] port", "not a string", "no quotes"]),
        ("[server]\nport = 0\n", ["[server] port must be an integer from 1 to 65535", "got 0"]),
        ("[server]\nport = 70000\n", ["from 1 to 65535", "got 70000"]),
        ("[server]\nport = 45.5\n", ["[server] port must be an integer", "got 45.5"]),
        ("[server]\nport = true\n", ["[server] port must be an integer", "got true"]),
        ('[server]\nhost = ""\n', ["[server] host must be a host name"]),
        ("[server]\ndata_dir = 3\n", ["[server] data_dir must be a directory path"]),
        # AWS identity.
        ('[aws]\nregion = "US-EAST-1"\n', ["[aws] region must be an AWS region", "US-EAST-1"]),
        ('[aws]\nregion = "useast1"\n', ["[aws] region"]),
        ('[aws]\naccount_id = "12345"\n', ["[aws] account_id must be exactly 12 digits"]),
        ('[aws]\naccount_id = "12345678901a"\n', ["exactly 12 digits"]),
        ("[aws]\naccount_id = 123456789012\n", ["not an integer", "quote it"]),
        # Logs limits.
        ("[logs]\nmax_subscription_filters = 0\n", ["max_subscription_filters", "at least 1"]),
        ("[logs]\nretention_check_seconds = 0\n", ["retention_check_seconds", "greater than 0"]),
        ("[logs]\nretention_check_seconds = -1.5\n", ["greater than 0"]),
        ('[logs]\nretention_check_seconds = "60"\n', ["greater than 0", "a string"]),
        ("[logs]\nretention_check_seconds = inf\n", ["greater than 0"]),
        # Credentials.
        (
            '[[credentials]]\naccess_key_id = "AKIA1"\n',
            ["[[credentials]] entry 1 (AKIA1) is missing secret_access_key"],
        ),
        (
            '[[credentials]]\naccess_key_id = "A"\nsecret_access_key = "s"\n'
            '[[credentials]]\nsecret_access_key = "t"\n',
            ["[[credentials]] entry 2 is missing access_key_id"],
        ),
        (
            '[credentials]\naccess_key_id = "A"\nsecret_access_key = "s"\n',
            ["[[credentials]] tables (double brackets)"],
        ),
        (
            '[[credentials]]\naccess_key_id = "A"\nsecret_key = "s"\n',
            ["unknown key 'secret_key'", "did you mean 'secret_access_key'?"],
        ),
        (
            '[[credentials]]\naccess_key_id = "A"\nsecret_access_key = 5\n',
            ["secret_access_key must be a non-empty string", "an integer"],
        ),
        (
            '[[credentials]]\naccess_key_id = "A"\nsecret_access_key = "s"\n'
            '[[credentials]]\naccess_key_id = "A"\nsecret_access_key = "t"\n',
            ["access_key_id A appears in more than one"],
        ),
    ],
)
def test_file_errors(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path / "logsieve.toml", text)
    message = error_for(path)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message


def test_secret_is_never_echoed_in_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path / "logsieve.toml",
        '[[credentials]]\naccess_key_id = "A"\nsecret_access_key = "has space"\n',
    )
    message = error_for(path)
    assert "secret_access_key" in message and "has space" not in message


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LOGSIEVE_PORT": "abc"}, ["LOGSIEVE_PORT must be an integer from 1 to 65535", '"abc"']),
        ({"LOGSIEVE_PORT": "0"}, ["LOGSIEVE_PORT", "got 0", "or unset it"]),
        ({"LOGSIEVE_PORT": "4588.0"}, ["LOGSIEVE_PORT must be an integer"]),
        ({"LOGSIEVE_REGION": "mars"}, ["LOGSIEVE_REGION must be an AWS region"]),
        ({"LOGSIEVE_ACCOUNT_ID": "1234"}, ["LOGSIEVE_ACCOUNT_ID must be exactly 12 digits"]),
        ({"LOGSIEVE_HOST": "my host"}, ["LOGSIEVE_HOST must be a host name"]),
        (
            {"LOGSIEVE_ACCESS_KEY_ID": "AKIAX"},
            ["LOGSIEVE_ACCESS_KEY_ID is set but LOGSIEVE_SECRET_ACCESS_KEY is not", "both"],
        ),
        (
            {"LOGSIEVE_SECRET_ACCESS_KEY": "s"},
            ["LOGSIEVE_SECRET_ACCESS_KEY is set but LOGSIEVE_ACCESS_KEY_ID is not"],
        ),
    ],
)
def test_environment_errors(home: Path, environ: dict[str, str], expected: list[str]) -> None:
    message = error_for(environ={"HOME": str(home), **environ})
    assert message.startswith("environment variable")
    for part in expected:
        assert part in message


def test_port_from_environment_text_is_parsed(home: Path) -> None:
    assert load_config(environ={"HOME": str(home), "LOGSIEVE_PORT": " 8081 "}).port == 8081


def test_override_errors_name_the_option(home: Path) -> None:
    message = error_for(environ={"HOME": str(home)}, port=123456)
    assert message.startswith("option --port must be an integer from 1 to 65535")
    message = error_for(environ={"HOME": str(home)}, max_subscription_filters=0)
    assert message.startswith("option --max-subscription-filters")


def test_valid_region_shapes(home: Path) -> None:
    for region in ("us-east-1", "us-gov-west-1", "ap-southeast-2", "eu-central-1"):
        assert load_config(environ={"HOME": str(home), "LOGSIEVE_REGION": region}).region == region


# --- credentials ------------------------------------------------------------------------------


def test_ensure_credentials_generates_once(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "deep" / "data")
    first, generated = ensure_credentials(config)
    assert generated is not None
    assert first.credentials == (generated,)
    assert first.secret_for(generated.access_key_id) == generated.secret_access_key

    path = tmp_path / "deep" / "data" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "access_key_id": generated.access_key_id,
        "secret_access_key": generated.secret_access_key,
    }
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temp left

    second, again = ensure_credentials(config)
    assert again is None
    assert second.credentials == (generated,)


def test_generated_keys_look_like_aws_keys(tmp_path: Path) -> None:
    _, one = ensure_credentials(Config(data_dir=tmp_path / "a"))
    _, two = ensure_credentials(Config(data_dir=tmp_path / "b"))
    assert one is not None and two is not None
    for credential in (one, two):
        assert re.fullmatch(r"AKIA[A-Z2-7]{16}", credential.access_key_id)
        assert re.fullmatch(r"[A-Za-z0-9+/]{40}", credential.secret_access_key)
    assert one != two


def test_configured_credentials_are_kept(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data", credentials=(Credential("AKIAC", "s"),))
    assert ensure_credentials(config) == (config, None)
    assert not (tmp_path / "data").exists()


def test_broken_credentials_file(tmp_path: Path) -> None:
    write(tmp_path / "credentials.json", "{not json")
    with pytest.raises(ConfigError, match="delete it to generate a new key pair"):
        ensure_credentials(Config(data_dir=tmp_path))
    write(tmp_path / "credentials.json", '{"access_key_id": "AKIAX"}')
    with pytest.raises(ConfigError, match="secret_access_key"):
        ensure_credentials(Config(data_dir=tmp_path))


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "not a directory")
    with pytest.raises(ConfigError, match="LOGSIEVE_DATA_DIR") as caught:
        ensure_credentials(Config(data_dir=blocker / "data"))
    assert "\n" not in str(caught.value)


def test_credential_help_has_exact_key_and_endpoint() -> None:
    credential = Credential("AKIAABCDEFGHIJKLMNOP", "abc/def+ghi")
    text = credential_help(credential, Config(port=4600, region="eu-west-1"))
    lines = text.splitlines()
    profile = "--profile logsieve"
    assert f"aws configure set aws_access_key_id AKIAABCDEFGHIJKLMNOP {profile}" in lines
    assert f"aws configure set aws_secret_access_key abc/def+ghi {profile}" in lines
    assert f"aws configure set region eu-west-1 {profile}" in lines
    assert (
        "export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP AWS_SECRET_ACCESS_KEY=abc/def+ghi "
        "AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_ENDPOINT_URL=http://127.0.0.1:4600"
    ) in lines
    boto3_lines = [line for line in lines if "boto3.client(" in line]
    assert len(boto3_lines) == 1
    assert 'endpoint_url="http://127.0.0.1:4600"' in boto3_lines[0]
    assert len(lines) < 15


@pytest.mark.parametrize(
    ("host", "endpoint"),
    [
        ("0.0.0.0", "http://127.0.0.1:4588"),
        ("::", "'http://[::1]:4588'"),  # quoted: brackets are a glob to the shell
        ("localhost", "http://localhost:4588"),
    ],
)
def test_credential_help_endpoint_is_reachable(host: str, endpoint: str) -> None:
    text = credential_help(Credential("AKIA", "s"), Config(host=host))
    assert f"AWS_ENDPOINT_URL={endpoint}" in text


def test_secret_for_and_repr_hides_secret() -> None:
    config = Config(
        credentials=(Credential("AKIA1", "s3cr3t-one"), Credential("AKIA2", "two")),
        smtp_url="smtp://user:hunter2@mail.example.com:587",
    )
    assert config.secret_for("AKIA2") == "two"
    assert config.secret_for("AKIA3") is None
    assert Config().secret_for("AKIA1") is None
    assert "s3cr3t-one" not in repr(config) and "AKIA1" in repr(config)
    assert "hunter2" not in repr(config)
