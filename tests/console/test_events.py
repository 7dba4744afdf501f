"""The events page through the real app: reads, patterns, ranges, paging, permalinks."""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

import pytest

from logsieve.console.pages.events import PAGE_SIZE, parse_time
from logsieve.errors import ServiceError
from tests.console.conftest import ConsoleClient
from tests.console.test_groups import ops

NOW = int(time.time() * 1000)


def put(app: Any, group: str, stream: str, messages: list[str], start: int = NOW - 60_000) -> None:
    """Events one millisecond apart, created with the Logs service as any client would."""
    operations = ops(app)
    with contextlib.suppress(ServiceError):  # already there
        operations["CreateLogGroup"]({"logGroupName": group})
    operations["CreateLogStream"]({"logGroupName": group, "logStreamName": stream})
    for offset in range(0, len(messages), 1000):
        batch = messages[offset : offset + 1000]
        operations["PutLogEvents"](
            {"logGroupName": group, "logStreamName": stream,
             "logEvents": [{"timestamp": start + offset + i, "message": m}
                           for i, m in enumerate(batch)]}
        )  # fmt: skip


def messages_of(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<pre class="plain">(.*?)</pre>', html)]


def test_a_stream_reads_newest_page_first_and_pages_older_and_newer(
    console_client: ConsoleClient,
) -> None:
    put(console_client.app, "/ev/paged", "s", [f"line {i}" for i in range(PAGE_SIZE + 30)])
    first = console_client.get("/console/events", params={"group": "/ev/paged", "stream": "s"})
    assert messages_of(first.text)[-1] == f"line {PAGE_SIZE + 29}"
    assert messages_of(first.text)[0] == "line 30"
    older = re.search(r'href="([^"]+)" data-testid="older"', first.text)
    assert older
    page = console_client.get(older[1].replace("&amp;", "&"))
    assert messages_of(page.text) == [f"line {i}" for i in range(30)]
    newer = re.search(r'href="([^"]+)" data-testid="newer"', page.text)
    assert newer
    back = console_client.get(newer[1].replace("&amp;", "&"))
    assert messages_of(back.text)[0] == "line 30"


def test_stream_events_have_permalinks_to_their_ids(console_client: ConsoleClient) -> None:
    put(console_client.app, "/ev/links", "s", ["alpha", "beta", "gamma"])
    page = console_client.get("/console/events", params={"group": "/ev/links", "stream": "s"})
    ids = re.findall(r'<tr data-event-id="(\d{56})"', page.text)
    assert len(ids) == 3
    expected = ops(console_client.app)["FilterLogEvents"]({"logGroupName": "/ev/links"})
    assert ids == [e["eventId"] for e in expected["events"]]
    linked = console_client.get("/console/events", params={"group": "/ev/links", "event": ids[1]})
    assert messages_of(linked.text) == ["beta"]
    assert 'class="linked"' in linked.text
    gone = console_client.get("/console/events", params={"group": "/ev/links", "event": "1" * 56})
    assert gone.status_code == 404


def test_a_pattern_searches_the_group_and_marks_extracted_values(
    console_client: ConsoleClient,
) -> None:
    put(console_client.app, "/ev/web", "a", ["10.0.0.1 bob 200", "10.0.0.2 eve 503"])
    put(console_client.app, "/ev/web", "b", ["10.0.0.3 amy 500", "plain ERROR line"])
    page = console_client.get(
        "/console/events", params={"group": "/ev/web", "pattern": "[ip, user, status=5*]"}
    )
    assert sorted(messages_of(page.text)) == ["10.0.0.2 eve 503", "10.0.0.3 amy 500"]
    assert '<mark class="value" title="$user">eve</mark>' in page.text
    assert "$status = 503" in page.text
    terms = console_client.get("/console/events", params={"group": "/ev/web", "pattern": "ERROR"})
    assert '<mark class="value">ERROR</mark>' in terms.text


def test_json_events_are_pretty_printed_and_their_selected_values_shown(
    console_client: ConsoleClient,
) -> None:
    put(console_client.app, "/ev/json", "s", ['{"status":500,"path":"/a"}', '{"status":200}'])
    page = console_client.get(
        "/console/events", params={"group": "/ev/json", "pattern": "{ $.status = 500 }"}
    )
    assert len(messages_of(page.text)) == 1
    assert "<details" in page.text
    assert '<pre class="pretty">{\n  <mark class="value">&#34;status&#34;</mark>: 500' in page.text
    assert "$.status = 500" in page.text


def test_an_invalid_pattern_shows_aws_message(console_client: ConsoleClient) -> None:
    put(console_client.app, "/ev/bad", "s", ["x"])
    page = console_client.get("/console/events", params={"group": "/ev/bad", "pattern": "{ $.x = "})
    assert page.status_code == 400
    assert "InvalidParameterException: Invalid filter pattern" in page.text


def test_absolute_and_relative_ranges(console_client: ConsoleClient) -> None:
    day = 86_400_000
    put(console_client.app, "/ev/range", "old", ["two days ago"], start=NOW - 2 * day)
    put(console_client.app, "/ev/range", "new", ["just now"], start=NOW - 1000)
    recent = console_client.get("/console/events", params={"group": "/ev/range", "range": "1h"})
    assert messages_of(recent.text) == ["just now"]
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW - 3 * day) / 1000))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW - day) / 1000))
    absolute = console_client.get(
        "/console/events", params={"group": "/ev/range", "start": start, "end": end}
    )
    assert messages_of(absolute.text) == ["two days ago"]
    bad = console_client.get("/console/events", params={"group": "/ev/range", "start": "soon"})
    assert bad.status_code == 400
    assert "is not a time" in bad.text


def test_filter_results_page_through_the_next_token(console_client: ConsoleClient) -> None:
    put(console_client.app, "/ev/many", "s", [f"hit {i}" for i in range(PAGE_SIZE + 5)])
    page = console_client.get("/console/events", params={"group": "/ev/many", "pattern": "hit"})
    assert len(messages_of(page.text)) == PAGE_SIZE
    more = re.search(r'href="([^"]+)" data-testid="next"', page.text)
    assert more
    rest = console_client.get(more[1].replace("&amp;", "&"))
    assert messages_of(rest.text) == [f"hit {i}" for i in range(PAGE_SIZE, PAGE_SIZE + 5)]


def test_messages_are_escaped(console_client: ConsoleClient) -> None:
    put(console_client.app, "/ev/xss", "s", ["<script>alert(1)</script>"])
    page = console_client.get("/console/events", params={"group": "/ev/xss", "stream": "s"})
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_without_a_group_the_page_lists_groups(console_client: ConsoleClient) -> None:
    put(console_client.app, "/ev/listed", "s", ["x"])
    assert "/ev/listed" in console_client.get("/console/events").text


@pytest.mark.parametrize(
    ("text", "ms"),
    [("2026-01-31T12:00:00Z", 1_769_860_800_000), ("2026-01-31T13:00:00+01:00", 1_769_860_800_000),
     ("2026-01-31T12:00:00", 1_769_860_800_000), ("1769860800000", 1_769_860_800_000), ("", None)],
)  # fmt: skip
def test_times_are_utc_unless_they_say_otherwise(text: str, ms: int | None) -> None:
    assert parse_time(text) == ms
