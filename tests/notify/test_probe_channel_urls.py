"""Probe: a careless operator's channel URLs. One that can never be sent to (a port out of
range, a broken IPv6 literal, a control character) is refused when the config loads, with one
line naming the table and key, never a traceback at load and never a send retried for a day."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.errors import ConfigError
from logsieve.sections import load_config

BAD_URLS = [
    "http://127.0.0.1:99999/hook",
    "https://hooks.example.com:0/x",
    "http://[::1/hook",
    "http://127.0.0.1:9/a\\tb",
    "http://127.0.0.1:9/a\\u2028b",
    "http://127.0.0.1:9/a\\u0000b",
]
TABLES = [
    ('type = "webhook"', "url"),
    ('type = "slack"', "webhook_url"),
    ('type = "datadog"\napi_key = "0123456789abcdef"', "api_url"),
]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(("kind", "key"), TABLES)
def test_a_channel_url_that_can_never_work_is_refused_at_load(
    tmp_path: Path, url: str, kind: str, key: str
) -> None:
    path = tmp_path / "logsieve.toml"
    path.write_text(f'[[channels]]\nname = "c"\n{kind}\n{key} = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"HOME": str(tmp_path)})
    message = str(caught.value)
    assert "\n" not in message and key in message, message
