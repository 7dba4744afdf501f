"""What the JetStream engine raises, without importing ``nats`` (callers catch these).

Both are ``ConfigError``s too, so ``logsieve serve`` prints them as its one line and exits (the
usual fix is in ``[storage]``); ``ClusterUnavailable`` is also a ``ConnectionError`` for the
callers that retry I/O.
"""

from __future__ import annotations

from logsieve.errors import ConfigError

__all__ = ["ClusterUnavailable", "NotOnJetStream"]


class ClusterUnavailable(ConfigError, ConnectionError):
    """The cluster did not answer in time; the message names its URLs and what to check."""


class NotOnJetStream(ConfigError, NotImplementedError):
    """A store the JetStream engine does not implement yet (``store`` names it)."""

    def __init__(self, store: str) -> None:
        super().__init__(
            f'the {store} store is not yet on JetStream; use [storage] engine = "sqlite"'
        )
        self.store = store
