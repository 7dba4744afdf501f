"""``[[sources]]`` in logsieve.toml: kinds' keys checked, one-line errors with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.errors import ConfigError
from logsieve.sections import load_config


def _load(tmp_path: Path, text: str):
    path = tmp_path / "logsieve.toml"
    path.write_text(text)
    return load_config(path, environ={})


def test_a_kinesis_source_with_defaults(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[[sources]]\nname = "flow"\ntype = "kinesis"\nstream_name = "s"\n'
        'region = "ap-northeast-1"\n',
    )
    (spec,) = config.sources
    assert (spec.name, spec.type, spec["stream_name"], spec["region"]) == (
        "flow", "kinesis", "s", "ap-northeast-1"
    )  # fmt: skip
    assert spec["start"] == "latest" and spec["into_prefix"] == "" and spec["stream_arn"] is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('name = "a"\ntype = "kinesis"\nstream_nam = "s"\n',
         "unknown key 'stream_nam' in source 'a' (type kinesis); did you mean 'stream_name'?"),
        ('name = "a"\ntype = "kinesys"\n', "type \"kinesys\" is unknown; did you mean 'kinesis'?"),
        ('type = "kinesis"\n', "[[sources]] entry 1 is missing name"),
        ('name = "a"\ntype = "kinesis"\n', "needs exactly one of stream_name and stream_arn"),
        ('name = "a"\ntype = "kinesis"\nstream_name = "s"\nstart = "now"\n',
         'start must be one of "latest", "trim_horizon" (got "now")'),
        ('name = "a"\ntype = "kinesis"\nstream_name = "s"\nregion = "mars"\n',
         "region is not an AWS region name"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_with_the_fix(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, "[[sources]]\n" + body)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_names_are_unique(tmp_path: Path) -> None:
    entry = '[[sources]]\nname = "a"\ntype = "kinesis"\nstream_name = "s"\n'
    with pytest.raises(ConfigError, match="source 'a' is declared twice"):
        _load(tmp_path, entry * 2)
