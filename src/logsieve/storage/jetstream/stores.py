"""Which stores the JetStream engine implements, and the one function that opens them.

A store missing from ``_OPENERS`` raises :class:`NotOnJetStream` naming it, so the work left is
visible (the contract suite turns it into one skip per store).
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import NotOnJetStream
from .options import JetStreamOptions

__all__ = ["IMPLEMENTED", "open_store"]

# store (a key of factory.FILES) -> "module:class" under this package, each class taking
# (JetStreamOptions) and owning its own connection.
_OPENERS = {
    "dead_letters": "dead_letters:JetStreamDeadLetterStore",
    "alert_state": "alert_state:JetStreamAlertStateStore",
    "topics": "topics:JetStreamTopicStore",
    "streams": "streams:JetStreamStreamStore",
    "outbox": "outbox:JetStreamOutboxStore",
    "ec2": "ec2:JetStreamEc2Store",
    "alarms": "alarms:JetStreamAlarmStore",
    "cloudtrail": "trails:JetStreamTrailStore",
    "metrics": "metrics:JetStreamMetricStore",
    "logs": "logs:JetStreamLogsStore",
}
IMPLEMENTED = frozenset(_OPENERS)


def open_store(store: str, options: JetStreamOptions) -> Any:
    """The JetStream implementation of ``store``, connected to the cluster of ``options``."""
    where = _OPENERS.get(store)
    if where is None:
        raise NotOnJetStream(store)
    module_name, cls = where.split(":")
    try:
        module = importlib.import_module(f"{__package__}.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] == "nats":
            raise RuntimeError(
                '[storage] engine = "jetstream" needs the NATS client: '
                "pip install 'logsieve[jetstream]'"
            ) from exc
        raise
    return getattr(module, cls)(options)
