"""``[[functions]]`` in logsieve.toml: functions run from a local directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.config import ConfigError
from logsieve.lambdas.declared import DeclaredFunction
from logsieve.sections import load_config


def load(tmp_path: Path, text: str):
    path = tmp_path / "conf" / "logsieve.toml"
    path.parent.mkdir(exist_ok=True)
    (path.parent / "handlers").mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path, load_config(path, environ={"HOME": str(tmp_path)})


def test_functions_are_read_with_defaults(tmp_path: Path) -> None:
    path, config = load(
        tmp_path,
        """
[[functions]]
name = "to-slack"
handler = "slack.handler"
code_dir = "handlers"
environment = { WEBHOOK = "https://example.com/hook", LEVEL = "warn" }
timeout = 30
memory_mb = 256
max_concurrency = 8

[[functions]]
name = "minimal"
handler = "pkg.mod.fn"
code_dir = "./handlers/"
""",
    )
    assert config.functions == (
        DeclaredFunction(
            name="to-slack",
            handler="slack.handler",
            code_dir=path.parent / "handlers",
            environment={"WEBHOOK": "https://example.com/hook", "LEVEL": "warn"},
            timeout=30.0,
            memory_mb=256,
            max_concurrency=8,
            source=path,
        ),
        DeclaredFunction(
            name="minimal",
            handler="pkg.mod.fn",
            code_dir=path.parent / "handlers",
            source=path,
        ),
    )
    assert (config.functions[1].timeout, config.functions[1].memory_mb) == (3.0, 128)


def test_no_functions_by_default(tmp_path: Path) -> None:
    assert load(tmp_path, "")[1].functions == ()


BASE = 'name = "f"\nhandler = "app.handler"\ncode_dir = "handlers"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[functions]\nname = 'f'\n", ["functions must be [[functions]] tables"]),
        ("[[functions]]\nname = 'f'\nhandler = 'a.b'\n", ["entry 1 (f) is missing code_dir"]),
        ("[[functions]]\n" + BASE + "timout = 3\n", ["unknown key 'timout'", "'timeout'?"]),
        ("[[functions]]\n" + BASE.replace('"f"', '"bad name"'), ["name must be 1-64 letters"]),
        ("[[functions]]\n" + BASE.replace("app.handler", "handler"), ['"module.function"']),
        ("[[functions]]\n" + BASE.replace('"handlers"', '"nowhere"'), ["nowhere is not a dir"]),
        ("[[functions]]\n" + BASE + "timeout = 901\n", ["timeout must be a number from 1 to 900"]),
        ("[[functions]]\n" + BASE + "timeout = '3'\n", ["timeout must be a number"]),
        ("[[functions]]\n" + BASE + "memory_mb = 64\n", ["memory_mb must be an integer from 128"]),
        ("[[functions]]\n" + BASE + "max_concurrency = 0\n", ["max_concurrency must be"]),
        ("[[functions]]\n" + BASE + "environment = 'x'\n", ["environment must be a table"]),
        ("[[functions]]\n" + BASE + "environment = { A = 1 }\n", ["'A' is not valid"]),
        ("[[functions]]\n" + BASE + "environment = { AB = 1 }\n", ["AB must be a string"]),
        ("[[functions]]\n" + BASE + "[[functions]]\n" + BASE, ["function f appears in more"]),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, text: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "conf" / "logsieve.toml") + ": ")
    for part in expected:
        assert part in message


def test_unknown_section_mentions_functions(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[\[functions\]\], \[\[channels\]\]"):
        load(tmp_path, "[function]\nname = 'f'\n")
