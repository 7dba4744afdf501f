"""Pattern playground through a signed-in TestClient on the real app: per line results with
extracted values, AWS's invalid-pattern message with the caret (as ``logsieve
test-pattern``), samples and a stream's last events, "copy as", and creating filters (a
Lambda destination is granted CloudWatch Logs' permission first); CSRF on the create."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

from click.testing import CliRunner

from logsieve.cli import main
from tests.console.conftest import BASE, ConsoleClient
from tests.lambdas.helpers import ECHO, ROLE, make_zip

ORIGIN = {"origin": BASE}


def _post(client: ConsoleClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data}, headers=ORIGIN,
                       follow_redirects=False)  # fmt: skip


def _logs(app: Any, operation: str, **params: Any) -> dict[str, Any]:
    return app.state.console.app.state.services.logs.operations[operation](params) or {}


def test_each_line_matches_or_not_with_its_extracted_values(console_client: ConsoleClient) -> None:
    lines = '10.0.0.1 - bob "GET /a" 500 12\n10.0.0.2 - amy "GET /b" 200 7\n'
    answer = _post(console_client, "/console/playground/results",
                   pattern="[ip, id, user, request, status = 5*, size]", lines=lines)  # fmt: skip
    assert answer.status_code == 200
    text = answer.text
    assert "<b>1</b> of 2 lines matched (space pattern)" in text
    assert text.count('data-testid="line"') == 2
    assert '<mark class="value" title="$status">500</mark>' in text
    assert "$user = bob" in text and "$user = amy" not in text


def test_an_invalid_pattern_shows_the_message_and_caret_of_test_pattern(
    console_client: ConsoleClient,
) -> None:
    pattern = "{ $.status = 500 && }"
    answer = _post(console_client, "/console/playground/results", pattern=pattern, lines="x")
    shown = re.search(r'data-testid="pattern-error">(.*?)</pre>', answer.text, re.S)
    assert shown
    cli = CliRunner().invoke(main, ["test-pattern", pattern, "-"], input="x\n")
    assert cli.exit_code == 2
    assert html.unescape(shown[1]) == cli.output.rstrip("\n")
    assert html.unescape(shown[1]).splitlines()[2].endswith("^")


def test_the_page_works_without_javascript_and_loads_a_bundled_sample(
    console_client: ConsoleClient,
) -> None:
    page = console_client.get(
        "/console/playground", params={"sample": "app-json", "pattern": "{ $.status >= 500 }"}
    )
    assert page.status_code == 200
    assert "payment gateway timeout" in page.text  # the sample is in the textarea
    assert "<b>2</b> of 6 lines matched (json pattern)" in page.text
    assert "$.status = 500" in page.text and "$.status = 503" in page.text
    posted = _post(console_client, "/console/playground", pattern="ERROR", lines="ERROR a\nok")
    assert posted.status_code == 200 and "<b>1</b> of 2 lines matched" in posted.text
    missing = console_client.get("/console/playground", params={"sample": "../etc/passwd"})
    assert missing.status_code == 400 and "No bundled sample" in missing.text


def test_the_last_events_of_a_stream_are_loaded(
    console_client: ConsoleClient, console_app: Any
) -> None:
    _logs(console_app, "CreateLogGroup", logGroupName="/play/load")
    _logs(console_app, "CreateLogStream", logGroupName="/play/load", logStreamName="s")
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": f"line {i}"} for i in range(5)]
    _logs(console_app, "PutLogEvents", logGroupName="/play/load", logStreamName="s",
          logEvents=events)  # fmt: skip
    page = console_client.get("/console/playground",
                              params={"group": "/play/load", "stream": "s", "n": "3"})  # fmt: skip
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S)
    assert textarea and textarea[1].split("\n") == ["line 2", "line 3", "line 4"]
    gone = console_client.get("/console/playground", params={"group": "/play/load", "stream": "x"})
    assert gone.status_code == 400 and "ResourceNotFoundException" in gone.text


def test_copy_as_cli_boto3_and_terraform(console_client: ConsoleClient) -> None:
    answer = _post(console_client, "/console/playground/results", pattern='{ $.a = "x" }',
                   lines="", group="/g", name="errs", kind="metric", metric="Errors",
                   namespace="App")  # fmt: skip
    text = html.unescape(answer.text)
    assert "aws logs put-metric-filter --log-group-name /g --filter-name errs" in text
    assert "--filter-pattern '{ $.a = \"x\" }'" in text
    assert "filterPattern='{ $.a = \"x\" }'" in text
    assert 'resource "aws_cloudwatch_log_metric_filter" "errs"' in text
    assert 'pattern        = "{ $.a = \\"x\\" }"' in text


def test_creating_a_metric_filter_needs_the_csrf_token_and_creates_it(
    console_client: ConsoleClient, console_app: Any
) -> None:
    _logs(console_app, "CreateLogGroup", logGroupName="/play/metric")
    form = {"pattern": "ERROR", "group": "/play/metric", "name": "errors", "kind": "metric",
            "namespace": "App", "metric": "Errors", "value": "1"}  # fmt: skip
    refused = console_client.post("/console/playground/create", data=form, headers=ORIGIN)
    assert refused.status_code == 403
    created = _post(console_client, "/console/playground/create", **form)
    assert created.status_code == 303
    assert "Created+metric+filter+errors" in created.headers["location"]
    found = _logs(console_app, "DescribeMetricFilters", logGroupName="/play/metric")
    [item] = found["metricFilters"]
    assert item["filterPattern"] == "ERROR"
    assert item["metricTransformations"][0]["metricName"] == "Errors"
    again = _post(console_client, "/console/playground/create", **{**form, "pattern": "{"})
    assert again.status_code == 400 and "InvalidParameterException" in again.text


def test_a_lambda_subscription_grants_cloudwatch_logs_permission_first(
    console_client: ConsoleClient, console_app: Any
) -> None:
    lambdas = console_app.state.console.app.state.services.extra["lambdas"]
    lambdas.operations["CreateFunction"]({
        "FunctionName": "play-sink", "Runtime": "python3.12", "Role": ROLE,
        "Handler": "handler.handler", "Code": {"ZipFile": make_zip({"handler.py": ECHO})},
    })  # fmt: skip
    arn = lambdas.operations["GetFunction"]({"FunctionName": "play-sink"})["Configuration"][
        "FunctionArn"
    ]
    _logs(console_app, "CreateLogGroup", logGroupName="/play/sub")
    form = {"pattern": "ERROR", "group": "/play/sub", "name": "to-lambda",
            "kind": "subscription", "destination": arn}  # fmt: skip
    created = _post(console_client, "/console/playground/create", **form)
    assert created.status_code == 303, created.text
    assert "granted+logs.us-east-1.amazonaws.com" in created.headers["location"]
    policy = json.loads(lambdas.operations["GetPolicy"]({"FunctionName": "play-sink"})["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(":log-group:/play/sub:*")
    found = _logs(console_app, "DescribeSubscriptionFilters", logGroupName="/play/sub")
    assert [f["destinationArn"] for f in found["subscriptionFilters"]] == [arn]
