"""Batched direct get (ADR-31, server 2.11+): many messages of a stream in one request, their
payloads raw (a leader's STREAM.MSG.GET answers one message, base64 in JSON).

nats-py 2.16 has no helper: the request goes to ``$JS.API.DIRECT.GET.<stream>`` with a reply
inbox, the messages come back one by one with ``Nats-Sequence`` headers, and a status message
(``204 EOB``, or ``404`` when nothing matched) ends the batch. Any replica may answer, so a
lagging one may leave out the newest messages: callers that know which messages exist fetch
the missing ones from the leader.
"""

from __future__ import annotations

import orjson

from .connection import Connection

__all__ = ["direct_batch"]

_API = "$JS.API.DIRECT.GET"


async def direct_batch(
    conn: Connection, stream: str, subjects: str, start: int, count: int
) -> dict[int, bytes]:
    """Up to ``count`` messages of ``stream`` matching ``subjects`` from seq ``start`` on, by
    seq (possibly fewer: a replica behind the leader, or no more messages)."""
    nc = conn.nc
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    found: dict[int, bytes] = {}
    try:
        request = {"seq": max(start, 1), "batch": count, "next_by_subj": subjects}
        await nc.publish(f"{_API}.{stream}", orjson.dumps(request), reply=inbox)
        while True:
            msg = await sub.next_msg(timeout=conn.options.timeout_seconds)
            headers = msg.headers or {}
            if "Status" in headers:  # 204 EOB ends a batch; 404: nothing (more) matched
                break
            found[int(headers["Nats-Sequence"])] = msg.data
    finally:
        await sub.unsubscribe()
    return found
