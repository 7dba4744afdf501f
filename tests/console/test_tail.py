"""Live tail: the form (TestClient), the SSE stream on a real server (httpx + boto3), and
Ctrl-C with a tail open (``logsieve serve`` ends it instead of waiting on it)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import ConsoleClient
from tests.console.sse import Reader, signed_in
from tests.server import Server, client
from tests.waiting import wait_for


def _put(logs: Any, group: str, stream: str, *messages: str) -> None:
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": now, "message": m} for m in messages],
    )  # fmt: skip


def _group(logs: Any, group: str, *streams: str) -> None:
    logs.create_log_group(logGroupName=group)
    for stream in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)


# --- the form --------------------------------------------------------------------------------


def _make_group(console_client: ConsoleClient, name: str) -> None:
    answer = console_client.post(
        "/console/groups/create", data={"logGroupName": name, "csrf_token": console_client.csrf},
        headers={"origin": console_client.base_url.__str__()}, follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code in (303, 400), answer.text


def test_the_form_lists_groups_and_points_the_page_at_the_stream(
    console_client: ConsoleClient,
) -> None:
    _make_group(console_client, "/tail/form")
    page = console_client.get("/console/tail")
    assert page.status_code == 200
    assert '<option value="/tail/form">' in page.text
    assert 'id="tail"' not in page.text  # nothing chosen yet: no stream
    page = console_client.get(
        "/console/tail",
        params={"group": "/tail/form", "pattern": "ERROR", "highlight": "a, b,a"},
    )
    assert page.status_code == 200, page.text
    assert 'data-src="/console/tail/stream?group=%2Ftail%2Fform&amp;pattern=ERROR' in page.text
    assert 'data-highlight="a\nb"' in page.text  # repeats dropped


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"group": "/tail/form", "pattern": '{ $.a = "x" '},
         "InvalidParameterException: Invalid filter pattern"),
        ({"group": "/tail/none"},
         "ResourceNotFoundException: The specified log group does not exist"),
        ({"group": "/tail/form", "highlight": "a,b,c,d,e,f"}, "At most 5 highlight terms."),
        ({"group": [f"/g{i}" for i in range(11)]}, "at most 10 log groups"),
    ],
)  # fmt: skip
def test_a_bad_choice_gets_the_reason_and_no_stream(
    console_client: ConsoleClient, params: dict[str, Any], message: str
) -> None:
    _make_group(console_client, "/tail/form")
    page = console_client.get("/console/tail", params=params)
    assert page.status_code == 400
    assert message in page.text
    assert 'id="tail"' not in page.text
    stream = console_client.get("/console/tail/stream", params=params)
    assert stream.status_code == 400 and message in stream.text


def test_the_stream_needs_a_session(console_client: ConsoleClient) -> None:
    console_client.cookies.clear()
    answer = console_client.get("/console/tail/stream?group=x", follow_redirects=False)
    assert answer.status_code in (302, 303, 401)


# --- the stream on a real server -----------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path).start(timeout=60)
    yield server
    server.stop()


def test_new_matching_events_arrive_within_a_second_and_resume_after_a_reconnect(
    live: Server,
) -> None:
    logs = client(live)
    _group(logs, "/tail/app", "web-1", "worker-1")
    _group(logs, "/tail/other", "web-1")
    _put(logs, "/tail/app", "web-1", "ERROR before the tail")
    web = signed_in(live.url)
    path = "/console/tail/stream?group=/tail/app&stream_prefix=web&pattern=ERROR"
    reader = Reader(web, path).start()
    wait_for(lambda: any(f.event == "ready" for f in reader.frames), 10, "the ready frame")
    assert reader.status == 200

    put_at = time.monotonic()
    _put(logs, "/tail/app", "web-1", "ERROR one", "INFO quiet")
    _put(logs, "/tail/app", "worker-1", "ERROR other stream")
    _put(logs, "/tail/other", "web-1", "ERROR other group")
    wait_for(lambda: reader.events(), 5, "the first event")
    assert time.monotonic() - put_at < 1.0
    _put(logs, "/tail/app", "web-1", "ERROR two")
    wait_for(lambda: len(reader.events()) >= 2, 5, "the second event")
    seen = [(e["group"], e["stream"], e["message"]) for e in reader.events()]
    assert seen == [("/tail/app", "web-1", "ERROR one"), ("/tail/app", "web-1", "ERROR two")]
    resume_from = reader.last_id()
    reader.close()

    _put(logs, "/tail/app", "web-1", "ERROR while away")
    again = Reader(web, path, headers={"Last-Event-ID": str(resume_from)}).start()
    wait_for(lambda: again.events(), 5, "the event put while disconnected")
    assert [e["message"] for e in again.events()] == ["ERROR while away"]
    again.close()


def test_ctrl_c_ends_an_open_tail_and_the_server_exits_promptly(live: Server) -> None:
    logs = client(live)
    _group(logs, "/tail/stop", "s")
    reader = Reader(signed_in(live.url), "/console/tail/stream?group=/tail/stop").start()
    wait_for(lambda: reader.frames, 10, "the ready frame")
    assert live.process is not None
    started = time.monotonic()
    live.process.send_signal(signal.SIGINT)
    live.process.wait(timeout=10)
    # The tail ended on the stop signal, not on uvicorn's 3 s grace timeout.
    took = time.monotonic() - started
    assert took < 2.5, took
    assert reader.ended.wait(5)
    assert [f.event for f in reader.frames][-1] == "end"


# --- sampling ----------------------------------------------------------------------------


def test_more_than_the_cap_is_sampled_uniformly_with_the_real_rate_stated() -> None:
    import json as json_

    from logsieve.console.tail import MAX_RATE, _frame

    events = [{"id": i, "message": str(i)} for i in range(4000)]
    text = _frame(99, events, 0, 1.0)
    assert text.startswith("id: 99\nevent: logs\n")
    body = json_.loads(text.split("data: ", 1)[1])
    assert body["sampled"] is True and body["rate"] == 4000.0 and body["cap"] == MAX_RATE
    kept = [e["id"] for e in body["events"]]
    assert len(kept) == MAX_RATE and kept == sorted(kept)  # in order, a subset
    assert kept[-1] - kept[0] > 2000  # spread over the second, not its first events
    calm = json_.loads(_frame(5, events[:10], 0, 1.0).split("data: ", 1)[1])
    assert calm["sampled"] is False and len(calm["events"]) == 10


def test_an_event_id_past_2_53_reaches_a_browser_intact() -> None:
    """A partitioned JetStream log's ids pass 2**53: read as JavaScript reads JSON (every
    number a double), the id still names the event, and a resume from it parses exactly."""
    import json as json_

    from logsieve.console.tail import _event, _frame, last_event_id

    seq = (2 << 57) | (123_456_789 << 14) | 7  # partition 2, as logs_partitions.py makes them
    assert float(seq) != seq  # a JSON number would lose it
    text = _frame(str(seq), [_event(seq, "/g", "s", 1, 2, "m")], 0, 1.0)
    body = json_.loads(text.split("data: ", 1)[1], parse_int=float)  # as JSON.parse does
    (event,) = body["events"]
    assert event["id"] == str(seq)
    assert last_event_id(event["id"]) == [seq]
