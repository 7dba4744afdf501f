"""Probe: the CLI's clients on a credentials.json an operator broke by hand. `serve` answers
one line naming the file and the fix; `credentials`, `subscriptions`, `dead-letters` and `put`
printed a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.serving import user_env

COMMANDS = [
    ["credentials"],
    ["subscriptions"],
    ["dead-letters", "list"],
    ["put", "--group", "g", "--stream", "s", "--create", __file__],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    "content", ['{"access_key_id": ', '{"access_key_id": 5, "secret_access_key": "x"}', "[]"]
)
def test_a_broken_credentials_file_is_one_clear_line(
    tmp_path: Path, content: str, command: list[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "credentials.json").write_text(content)
    (data / "credentials.json").chmod(0o600)
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", *command, "--data-dir", str(data)],
        env=user_env(tmp_path / "home"), cwd=tmp_path, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "credentials.json" in lines[0]
