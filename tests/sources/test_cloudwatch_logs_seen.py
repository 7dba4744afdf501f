"""The window a cloudwatch-logs source keeps per remote group, and its throttling backoff."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from logsieve.sources.base import SourceContext, SourceSpec
from logsieve.sources.cloudwatch_logs import KIND, CloudWatchLogsSource
from logsieve.sources.cloudwatch_logs_seen import Seen, content_key
from logsieve.sources.status import SourceStatus


def now() -> int:
    return int(time.time() * 1000)


def test_an_event_is_admitted_once_across_passes_and_a_reload() -> None:
    t = now()
    seen = Seen(t - 10_000, 60_000)
    first = seen.begin()
    assert first.admit("e1", t) and first.admit("e2", t + 1)
    again = Seen.load(seen.dump(), 0, 60_000).begin()
    assert not again.admit("e1", t) and not again.admit("e2", t + 1)
    assert again.admit("e3", t - 5_000)  # late, but inside the window


def test_identical_twins_in_one_pass_are_both_kept_and_not_again() -> None:
    t = now()
    seen = Seen(t - 1000, 60_000)
    key = content_key("s", t, t, "same")
    one = seen.begin()
    assert one.admit(key, t) and one.admit(key, t)
    other = seen.begin()  # a poll after the session showed both: nothing new
    assert not other.admit(key, t) and not other.admit(key, t)
    assert other.admit(key, t)  # a third one is new


def test_nothing_before_the_start_or_the_window_is_admitted() -> None:
    t = now() - 600_000
    seen = Seen(t, 60_000)
    check = seen.begin()
    assert not check.admit("before start", t - 1)
    assert check.admit("new", t + 10)
    seen.high = t + 120_000  # later events moved the window on
    check.forget_old()
    assert "new" not in seen.keys
    assert not check.admit("too late", t + 30_000)


def test_a_remote_clock_ahead_cannot_push_the_window_into_the_future() -> None:
    t = now()
    seen = Seen(t - 600_000, 60_000)
    assert seen.begin().admit("future", t + 3_600_000)
    assert seen.floor <= now() - 60_000 + 1000


def test_throttling_is_waited_out_with_backoff() -> None:
    spec = SourceSpec(
        "c", "cloudwatch-logs",
        {key: k.default for key, k in KIND.keys.items()} | {"log_groups": ["/g"]},
    )  # fmt: skip
    source = CloudWatchLogsSource(spec, SourceContext("c", SourceStatus("c", "x"), None))  # type: ignore[arg-type]
    answers: list[Any] = [
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "F"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "F"),
        {"events": []},
    ]

    def call(**params: Any) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    began = time.monotonic()
    assert source._call(call) == {"events": []}
    assert time.monotonic() - began >= 0.6  # 0.2 s, then 0.4 s
    assert source.calls == 3 and "Rate exceeded" in (source.ctx.status.last_error or "")
    answers[:] = [ClientError({"Error": {"Code": "AccessDeniedException"}}, "F")]
    with pytest.raises(ClientError):
        source._call(call)
