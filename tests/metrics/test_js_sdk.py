"""The AWS SDK for JavaScript v3 CloudWatch client (tests/e2e/js/cloudwatch.mjs) against the
real server: whatever protocol it speaks, the answers read as AWS's."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.helpers import run
from tests.metrics.test_api import hour_ago, namespace
from tests.server import ACCESS_KEY, SECRET_KEY, Server

JS = Path(__file__).resolve().parents[1] / "e2e" / "js"
SDK = JS / "node_modules" / "@aws-sdk" / "client-cloudwatch" / "package.json"


@pytest.fixture(scope="module")
def report(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js >= 20 to run the JS SDK test")
    if not SDK.exists():
        pytest.fail(f"{SDK.parent} is missing: run `npm ci --prefix tests/e2e/js`")
    home = tmp_path_factory.mktemp("aws-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "none"), AWS_SHARED_CREDENTIALS_FILE=str(home / "none"),
        HOME=str(home), LOGSIEVE_ENDPOINT=server.url, LOGSIEVE_NAMESPACE=namespace(),
        LOGSIEVE_START=str(hour_ago()),
    )  # fmt: skip
    done = run([node, JS / "cloudwatch.mjs"], env, timeout=60)
    assert done.returncode == 0, f"cloudwatch.mjs failed:\n{done.stderr}"
    return json.loads(done.stdout)


def test_the_sdk_round_trips_metrics(report: dict) -> None:
    assert report["put"]["ok"], report["put"]
    (point,) = report["stats"]["output"]["Datapoints"]
    assert (point["Sum"], point["SampleCount"]) == (7.0, 4.0)
    (result,) = report["data"]["output"]["MetricDataResults"]
    assert result["Values"] == [3.0]
    assert [m["MetricName"] for m in report["list"]["output"]["Metrics"]] == ["Rejects"]


def test_errors_are_the_modeled_exception_classes(report: dict) -> None:
    bad = report["bad"]
    assert not bad["ok"]
    assert bad["modeled"], bad
    assert "mutually exclusive" in bad["message"]


def test_which_protocol_the_sdk_speaks(report: dict) -> None:
    """@aws-sdk/client-cloudwatch 3.1178 sends JSON 1.0 with awsQueryCompatible, as boto3
    does (the model's RPCv2 CBOR is served too): a change of SDK default shows up here."""
    kinds = {
        "cbor" if step["path"].startswith("/service/") else
        "json" if step["target"] else "query"
        for step in report["wire"]
    }  # fmt: skip
    assert kinds == {"json"}, report["wire"]
