"""The credential lines ``logsieve serve`` prints work as pasted, for every kind of client.

Each test pastes the printed lines into a fresh shell (HOME empty, no AWS variables) and runs a
real client with nothing else: the JS SDK v3 from the export line, the aws CLI from the profile
lines, boto3 from the Python line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.serving import export_line, serve_fresh, user_env

JS = Path(__file__).resolve().parents[1] / "e2e" / "js"

CALL_WITH_ENVIRONMENT_ONLY = """
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand }
  from "@aws-sdk/client-cloudwatch-logs";
const client = new CloudWatchLogsClient({ maxAttempts: 1 });  // region, endpoint, key: env
await client.send(new CreateLogGroupCommand({ logGroupName: "/js/from-env" }));
const found = await client.send(new DescribeLogGroupsCommand({}));
console.log(JSON.stringify(found.logGroups.map((g) => g.logGroupName)));
"""


def _shell(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def printed(tmp_path: Path):
    server = serve_fresh(tmp_path)
    try:
        server.wait_listening()
        yield server.output
    finally:
        server.stop()


def test_export_line_is_enough_for_the_js_sdk_v3(printed: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is not on PATH: install Node.js >= 20 to run the JS SDK tests"
    assert (JS / "node_modules" / "@aws-sdk").is_dir(), "run `npm ci --prefix tests/e2e/js`"
    env = user_env(tmp_path / "client-home", {"JS": CALL_WITH_ENVIRONMENT_ONLY})
    done = _shell(f'{export_line(printed)}\nnode --input-type=module -e "$JS"', env, JS)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["/js/from-env"]


def test_export_line_names_both_region_variables(printed: str) -> None:
    line = export_line(printed)
    assert " AWS_REGION=us-east-1 " in line and " AWS_DEFAULT_REGION=us-east-1 " in line
