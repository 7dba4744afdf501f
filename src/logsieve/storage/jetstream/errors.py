"""What the JetStream engine raises, without importing ``nats`` (callers catch these)."""

from __future__ import annotations

__all__ = ["ClusterUnavailable", "NotOnJetStream"]


class ClusterUnavailable(ConnectionError):
    """The cluster did not answer in time; the message names its URLs and what to check."""


class NotOnJetStream(NotImplementedError):
    """A store the JetStream engine does not implement yet (``store`` names it)."""

    def __init__(self, store: str) -> None:
        super().__init__(
            f'the {store} store is not yet on JetStream; use [storage] engine = "sqlite"'
        )
        self.store = store
