"""The NATS JetStream engine: the storage protocols on a replicated cluster.

This package's top imports no ``nats`` (an optional extra): ``options`` and ``errors`` are
plain values the config and the factory name; ``stores.open_store`` imports the client when a
store is first opened. ``connection`` is the blocking facade over nats-py; ``cluster`` starts a
local cluster of ``nats-server`` processes (``logsieve cluster up``, the tests).
"""

from .errors import ClusterUnavailable, NotOnJetStream
from .options import JetStreamOptions

__all__ = ["ClusterUnavailable", "JetStreamOptions", "NotOnJetStream"]
