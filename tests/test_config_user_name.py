"""``[[credentials]] user_name``: the IAM user CloudTrail records for a key's calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.config import ConfigError, load_config


def _load(tmp_path: Path, body: str):
    path = tmp_path / "logsieve.toml"
    path.write_text(body)
    return load_config(path, environ={"HOME": str(tmp_path)})


def test_a_credential_can_name_its_user(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[[credentials]]\naccess_key_id = "AKIAALICE"\nsecret_access_key = "s"\n'
        'user_name = "alice"\n'
        '[[credentials]]\naccess_key_id = "AKIAOTHER"\nsecret_access_key = "t"\n',
    )
    assert config.user_name_for("AKIAALICE") == "alice"
    assert config.user_name_for("AKIAOTHER") is None
    assert config.user_name_for("AKIANONE") is None


def test_a_bad_user_name_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="user_name must be a non-empty string"):
        _load(
            tmp_path,
            '[[credentials]]\naccess_key_id = "A"\nsecret_access_key = "s"\nuser_name = ""\n',
        )
