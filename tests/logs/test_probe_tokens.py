"""Probe: a FilterLogEvents nextToken is a position in one log group's query. Replayed on
another group it used to be taken as a position there, silently skipping that group's events
before it; AWS refuses it (InvalidParameterException)."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError


def _group(logs, events: int) -> str:
    name = f"/probe/tokens/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=name,
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": f"m{i}"} for i in range(events)],
    )
    return name


def test_a_filter_token_of_one_group_is_refused_on_another(logs) -> None:
    first, second = _group(logs, 5), _group(logs, 5)
    token = logs.filter_log_events(logGroupName=first, limit=2)["nextToken"]
    assert len(logs.filter_log_events(logGroupName=first, nextToken=token)["events"]) == 3
    with pytest.raises(ClientError) as caught:
        events = logs.filter_log_events(logGroupName=second, nextToken=token)["events"]
        raise AssertionError(f"the token read {[e['message'] for e in events]} of another group")
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )


def test_a_describe_streams_token_of_one_group_is_refused_on_another(logs) -> None:
    first, second = _group(logs, 1), _group(logs, 1)
    for name in ("a", "b"):
        logs.create_log_stream(logGroupName=first, logStreamName=name)
    token = logs.describe_log_streams(logGroupName=first, limit=1)["nextToken"]
    with pytest.raises(ClientError) as caught:
        streams = logs.describe_log_streams(logGroupName=second, nextToken=token)["logStreams"]
        raise AssertionError(f"the token listed {[s['logStreamName'] for s in streams]}")
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )


def test_a_group_scoped_token_is_refused_on_a_recreated_group_of_the_same_name(logs) -> None:
    """Ids are never reused: a token of a deleted group names no group there is."""
    name = _group(logs, 1)
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName=name, logStreamName=stream)
    token = logs.describe_log_streams(logGroupName=name, limit=1)["nextToken"]
    logs.delete_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=name)
    with pytest.raises(ClientError) as caught:
        logs.describe_log_streams(logGroupName=name, nextToken=token)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
