"""The AWS SDK for JavaScript v3 (@aws-sdk/client-cloudwatch-logs) run by node: js/exercise.mjs.

`make` installs the SDK with `npm ci --prefix tests/e2e/js`. A missing node or SDK fails the test
rather than skipping it: CI has both, so a skip would only hide a broken setup.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.helpers import REGION, run, unique_group
from tests.server import Server

JS = Path(__file__).resolve().parent / "js"
SDK = JS / "node_modules" / "@aws-sdk" / "client-cloudwatch-logs" / "package.json"
# What exercise.mjs puts, in order, one millisecond apart.
MESSAGES = [
    "first line",
    "ERROR something broke",
    "naïve café ✓ 日本語",
    '{"level":"warn","ms":42}',
]
GROUP_GONE = "The specified log group does not exist."
STREAM_GONE = "The specified log stream does not exist."
GROUP_EXISTS = "The specified log group already exists"
STREAM_EXISTS = "The specified log stream already exists"
OUT_OF_ORDER = "Log events in a single PutLogEvents request must be in chronological order."


@pytest.fixture(scope="module")
def report(server: Server, client_env: dict[str, str]) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js >= 20 (and npm) to run the JS SDK test")
    if not SDK.exists():
        pytest.fail(
            f"{SDK.parent} is missing: run `npm ci --prefix tests/e2e/js` (`make test` does it)"
        )
    group = unique_group("js")
    env = {**client_env, "AWS_REGION": REGION, "LOGSIEVE_ENDPOINT": server.url}
    done = run([node, JS / "exercise.mjs"], {**env, "LOGSIEVE_GROUP": group}, timeout=45)
    assert done.returncode == 0, f"exercise.mjs failed:\n{done.stderr}"
    result = json.loads(done.stdout)
    result["group"] = group
    return result


def ok(step: dict) -> dict:
    assert step["ok"], step
    return step["output"]


def test_round_trip(report: dict) -> None:
    group = report["group"]
    assert ok(report["createGroup"]) == {} and ok(report["createStream"]) == {}
    assert set(ok(report["put"])) == {"nextSequenceToken"}

    got = ok(report["get"])
    assert [e["message"] for e in got["events"]] == MESSAGES
    stamps = [e["timestamp"] for e in got["events"]]
    assert stamps == list(range(stamps[0], stamps[0] + 4))
    assert got["nextForwardToken"].startswith("f/") and got["nextBackwardToken"].startswith("b/")

    assert [e["message"] for e in ok(report["filter"])["events"]] == ["ERROR something broke"]
    json_hits = ok(report["filterJson"])["events"]
    assert [(e["logStreamName"], e["message"]) for e in json_hits] == [
        ("app", '{"level":"warn","ms":42}')
    ]

    groups = ok(report["describeGroups"])["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["storedBytes"] == sum(len(m.encode()) for m in MESSAGES)  # bytes, not chars
    assert isinstance(groups[0]["creationTime"], int)

    # The SDK's paginator, one stream per page, follows nextToken to the end and stops.
    assert report["paginatedStreams"] == {"ok": True, "pages": 3, "names": ["app", "b", "c"]}

    # 25 matching events, 10 per page: at least three pages, every event once, in order.
    paged = report["paginatedFilter"]
    assert paged["ok"] and paged["pages"] >= 3, paged
    assert paged["messages"] == [f"tick {i}" for i in range(25)]

    assert ok(report["deleteGroup"]) == {}
    assert ok(report["afterDelete"]) == {"logGroups": []}


@pytest.mark.parametrize(
    ("step", "name", "message"),
    [
        ("missingGroup", "ResourceNotFoundException", GROUP_GONE),
        ("missingStream", "ResourceNotFoundException", STREAM_GONE),
        ("duplicateGroup", "ResourceAlreadyExistsException", GROUP_EXISTS),
        ("duplicateStream", "ResourceAlreadyExistsException", STREAM_EXISTS),
        ("outOfOrder", "InvalidParameterException", OUT_OF_ORDER),
    ],
)
def test_modeled_errors(report: dict, step: str, name: str, message: str) -> None:
    assert report[step] == {
        "ok": False,
        "name": name,
        "message": message,
        "fault": "client",
        "httpStatus": 400,
        "modeledInstance": True,  # an instance of the SDK's exported exception class
        "errorTypeHeader": name,
    }


def test_bad_signature_is_rejected(report: dict) -> None:
    assert report["badSignature"] == {
        "ok": False,
        "name": "InvalidSignatureException",
        "httpStatus": 400,
    }
