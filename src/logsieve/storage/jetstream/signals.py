"""``AppendSignals`` on NATS: a core NATS message on ``<namespace>.appended`` per append.

Core NATS, not JetStream: nothing is stored, a signal lost while a node reconnects only
delays delivery until its pump's next poll of the log. Publishing hands the message to the
connection's loop without waiting (an append's 200 never waits for it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from nats.aio.msg import Msg

from .connection import Connection
from .options import JetStreamOptions

__all__ = ["JetStreamSignals"]

log = logging.getLogger(__name__)


class JetStreamSignals:
    """Append signals among the nodes of one namespace."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn = Connection(options, "signals")
        self._subject = self._conn.subject("appended")

    def appended(self, group_id: int) -> None:
        with contextlib.suppress(RuntimeError):  # closed: the node is stopping
            self._conn.submit(self._conn.nc.publish(self._subject, b"%d" % group_id))

    def listen(self, callback: Callable[[int], None]) -> None:
        async def received(msg: Msg) -> None:
            try:
                group_id = int(msg.data)
            except ValueError:
                log.warning("event=bad_append_signal subject=%s", msg.subject)
                return
            callback(group_id)

        async def subscribe() -> None:
            await self._conn.nc.subscribe(self._subject, cb=received)
            await self._conn.nc.flush()  # this node's server has the interest on return

        self._conn.run(subscribe())

    def close(self) -> None:
        self._conn.close()
