"""The log groups and streams page, through the real app (TestClient)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.console.conftest import ConsoleClient


def ops(app: Any) -> dict[str, Any]:
    """The Logs service's operations of the app under test (how a client would set state)."""
    return app.state.console.app.state.services.logs.operations


def describe(app: Any, name: str) -> dict[str, Any]:
    found = ops(app)["DescribeLogGroups"]({"logGroupNamePrefix": name})["logGroups"]
    return next(g for g in found if g["logGroupName"] == name)


def post(client: ConsoleClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data}, follow_redirects=False)


def row(html: str, group: str) -> str:
    found = re.search(rf'<tr data-group="{re.escape(group)}">(.*?)</tr>', html, re.S)
    assert found, html
    return found[1]


def test_create_a_group_and_find_it_by_prefix(console_client: ConsoleClient) -> None:
    created = post(console_client, "/console/groups/create", logGroupName="/app/created")
    assert created.status_code == 303
    assert created.headers["location"].startswith("/console/group?name=%2Fapp%2Fcreated")
    post(console_client, "/console/groups/create", logGroupName="/other/one")
    listed = console_client.get("/console/groups", params={"prefix": "/app/"}).text
    assert "/app/created" in listed and "/other/one" not in listed
    assert "Never expire" in row(listed, "/app/created")


def test_an_existing_name_shows_aws_error(console_client: ConsoleClient) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/twice")
    again = post(console_client, "/console/groups/create", logGroupName="/app/twice")
    assert again.status_code == 400
    assert "ResourceAlreadyExistsException: The specified log group already exists" in again.text


def test_the_list_shows_size_filters_and_tags(console_client: ConsoleClient) -> None:
    app = console_client.app
    ops(app)["CreateLogGroup"]({"logGroupName": "/app/rich", "tags": {"team": "core"}})
    ops(app)["CreateLogStream"]({"logGroupName": "/app/rich", "logStreamName": "s"})
    now = int(time.time() * 1000)
    ops(app)["PutLogEvents"](
        {"logGroupName": "/app/rich", "logStreamName": "s",
         "logEvents": [{"timestamp": now, "message": "x" * 2000}]}
    )  # fmt: skip
    ops(app)["PutMetricFilter"](
        {"logGroupName": "/app/rich", "filterName": "errors", "filterPattern": "ERROR",
         "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App",
                                    "metricValue": "1"}]}
    )  # fmt: skip
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row(console_client.get("/console/groups").text,
                                                    "/app/rich"), re.S)  # fmt: skip
    stored = describe(app, "/app/rich")["storedBytes"]
    assert stored > 0
    assert cells[2].strip() in (f"{stored} B", f"{stored / 1024:.1f} KiB")
    assert cells[3].strip() == "1"  # metric filters
    assert cells[4].strip() == "0"  # subscription filters
    assert "team=core" in cells[5]


def test_edit_retention(console_client: ConsoleClient) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/retained")
    saved = post(
        console_client, "/console/group/retention", logGroupName="/app/retained",
        retentionInDays="14",
    )  # fmt: skip
    assert saved.status_code == 303
    assert describe(console_client.app, "/app/retained")["retentionInDays"] == 14
    page = console_client.get(saved.headers["location"]).text
    assert "Events expire after 14 days." in page
    assert '<option value="14" selected>' in page
    post(console_client, "/console/group/retention", logGroupName="/app/retained",
         retentionInDays="never")  # fmt: skip
    assert describe(console_client.app, "/app/retained").get("retentionInDays") is None


def test_a_retention_aws_refuses_shows_its_message(console_client: ConsoleClient) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/odd")
    refused = post(console_client, "/console/group/retention", logGroupName="/app/odd",
                   retentionInDays="2")  # fmt: skip
    assert refused.status_code == 400
    assert "Value &#39;2&#39; at &#39;retentionInDays&#39; failed to satisfy constraint" in (
        refused.text
    )


def test_add_and_remove_tags(console_client: ConsoleClient) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/tagged")
    post(console_client, "/console/group/tag", logGroupName="/app/tagged", key="env", value="dev")
    tags = ops(console_client.app)["ListTagsLogGroup"]({"logGroupName": "/app/tagged"})
    assert tags["tags"] == {"env": "dev"}
    post(console_client, "/console/group/untag", logGroupName="/app/tagged", key="env")
    tags = ops(console_client.app)["ListTagsLogGroup"]({"logGroupName": "/app/tagged"})
    assert tags.get("tags", {}) == {}


def test_streams_are_listed_by_last_event(console_client: ConsoleClient) -> None:
    app = console_client.app
    ops(app)["CreateLogGroup"]({"logGroupName": "/app/streams"})
    now = int(time.time() * 1000)
    for name, age in (("old", 60_000), ("newest", 0), ("middle", 30_000)):
        ops(app)["CreateLogStream"]({"logGroupName": "/app/streams", "logStreamName": name})
        ops(app)["PutLogEvents"](
            {"logGroupName": "/app/streams", "logStreamName": name,
             "logEvents": [{"timestamp": now - age, "message": name}]}
        )  # fmt: skip
    page = console_client.get("/console/group", params={"name": "/app/streams"}).text
    assert re.findall(r'<tr data-stream="([^"]+)">', page) == ["newest", "middle", "old"]
    by_prefix = console_client.get(
        "/console/group", params={"name": "/app/streams", "prefix": "m"}
    ).text
    assert re.findall(r'<tr data-stream="([^"]+)">', by_prefix) == ["middle"]


def test_create_and_delete_a_stream(console_client: ConsoleClient) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/s")
    post(console_client, "/console/group/streams/create", logGroupName="/app/s",
         logStreamName="one")  # fmt: skip
    assert '<tr data-stream="one">' in console_client.get("/console/group?name=/app/s").text
    confirm = console_client.get("/console/group/delete?name=/app/s&stream=one").text
    assert "Delete log stream <b>one</b>" in confirm
    post(console_client, "/console/group/delete", logGroupName="/app/s", logStreamName="one")
    assert '<tr data-stream="one">' not in console_client.get("/console/group?name=/app/s").text


def test_delete_a_group_after_confirmation(console_client: ConsoleClient) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/doomed")
    confirm = console_client.get("/console/group/delete", params={"name": "/app/doomed"})
    assert "Delete log group <b>/app/doomed</b>" in confirm.text
    assert describe(console_client.app, "/app/doomed")  # asking deletes nothing
    deleted = post(console_client, "/console/group/delete", logGroupName="/app/doomed")
    assert deleted.status_code == 303
    assert "Deleted+log+group" in deleted.headers["location"]
    names = [g["logGroupName"] for g in ops(console_client.app)["DescribeLogGroups"]({})[
        "logGroups"]]  # fmt: skip
    assert "/app/doomed" not in names


def test_an_unknown_group_is_a_404_page(console_client: ConsoleClient) -> None:
    answer = console_client.get("/console/group", params={"name": "/no/such"})
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "path", ["/console/groups/create", "/console/group/retention", "/console/group/delete"]
)
def test_every_change_needs_the_csrf_token(console_client: ConsoleClient, path: str) -> None:
    post(console_client, "/console/groups/create", logGroupName="/app/kept")
    answer = console_client.post(
        path, data={"logGroupName": "/app/kept", "retentionInDays": "1"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert describe(console_client.app, "/app/kept").get("retentionInDays") is None
