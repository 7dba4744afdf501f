"""``logsieve credentials``: the lines to use the server's key pair, again, whenever asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from logsieve.cli import main
from tests.cli.serving import export_line, serve_fresh, user_env


def _logsieve(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logsieve", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_prints_the_lines_serve_printed_and_they_work(tmp_path: Path) -> None:
    server = serve_fresh(tmp_path)
    try:
        url = server.wait_listening()
        port = url.rsplit(":", 1)[1]
        where = ["--data-dir", str(tmp_path / "data"), "--port", port]
        env = user_env(tmp_path / "home")
        shown = _logsieve("credentials", *where, env=env, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert export_line(shown.stdout) == export_line(server.output)
        assert str(tmp_path / "data" / "credentials.json") in shown.stdout  # where it lives

        as_json = _logsieve("credentials", *where, "--json", "--profile", "dev", env=env,
                            cwd=tmp_path)  # fmt: skip
        document = json.loads(as_json.stdout)
        assert document["endpointUrl"] == url and document["profile"] == "dev"
        assert document["environment"]["AWS_REGION"] == "us-east-1"
        assert document["source"] == str(tmp_path / "data" / "credentials.json")

        # The profile lines, pasted into a fresh shell, make a working aws CLI profile.
        aws = Path(sys.executable).parent / "aws"
        script = "\n".join(document["lines"]["profile"]).replace("aws ", f"{aws} ", 4)
        script += f"\n{aws} logs describe-log-groups --profile dev --output json"
        done = subprocess.run(["bash", "-euc", script], env=user_env(tmp_path / "cli-home"),
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"logGroups": []}
    finally:
        server.stop()


def test_profile_name_is_chosen(tmp_path: Path) -> None:
    config = tmp_path / "logsieve.toml"
    config.write_text('[[credentials]]\naccess_key_id = "AKIAEXAMPLEEXAMPLE01"\n'
                      'secret_access_key = "s3cr3t"\n')  # fmt: skip
    result = CliRunner().invoke(
        main, ["credentials", "--config", str(config), "--profile", "work"], env={}
    )
    assert result.exit_code == 0, result.output
    expected = "aws configure set aws_access_key_id AKIAEXAMPLEEXAMPLE01 --profile work"
    assert expected in result.output
    assert "--profile logsieve" not in result.output
    assert "[[credentials]]" in result.output  # says where this key pair comes from


def test_no_key_pair_yet_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["credentials", "--data-dir", str(tmp_path / "empty")], env={"LOGSIEVE_CONFIG": ""}
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "logsieve serve" in lines[0], result.output
