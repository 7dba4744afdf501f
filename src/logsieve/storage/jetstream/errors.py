"""What the JetStream engine raises, without importing ``nats`` (callers catch these).

All are ``ConfigError``s too, so ``logsieve serve`` prints them as its one line and exits (the
usual fix is in ``[storage]``); ``ClusterUnavailable`` is also a ``ConnectionError`` for the
callers that retry I/O.
"""

from __future__ import annotations

from logsieve.errors import ConfigError

__all__ = ["ClusterRefused", "ClusterUnavailable", "NotOnJetStream", "refusal"]


class ClusterUnavailable(ConfigError, ConnectionError):
    """The cluster did not answer in time; the message names its URLs and what to check."""


class ClusterRefused(ConfigError):
    """The cluster answered but would not create a stream or bucket (no room for its
    replicas, account limits...); the message names it, the server's reason and the fix."""


# What to do about a refusal, by the server's err_code (nats-server's errors.json).
_FIXES = {
    10005: "it needs {replicas} servers with room: start the missing servers, lower [storage]"
    " replicas (--replicas) to at most the servers running, or give them more storage"
    " (jetstream max_file_store)",
    10023: "give the servers more storage (jetstream max_file_store) or lower [storage] replicas",
    10027: "the account's JetStream limits are reached: raise them or free streams",
    10047: "the account's JetStream limits are reached: raise them or free streams",
}


def refusal(what: str, urls: str, replicas: int, err_code: int | None, description: str) -> str:
    """The one line for a refused creation of ``what`` (a stream or bucket name)."""
    fix = _FIXES.get(err_code or 0, "check the servers' JetStream configuration and limits")
    return (
        f"the NATS cluster at {urls} refused to create {what}: {description}"
        f" (err_code {err_code}); {fix.format(replicas=replicas)}"
    )


class NotOnJetStream(ConfigError, NotImplementedError):
    """A store the JetStream engine does not implement yet (``store`` names it)."""

    def __init__(self, store: str) -> None:
        super().__init__(
            f'the {store} store is not yet on JetStream; use [storage] engine = "sqlite"'
        )
        self.store = store
