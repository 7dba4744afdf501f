"""How to reach the NATS JetStream cluster: the ``[storage]`` keys the JetStream engine reads.

Pure values (no ``nats`` import), so the config section and the factory can name them without
the optional ``jetstream`` extra installed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PARTITIONS", "DEFAULT_URL", "JetStreamOptions"]

DEFAULT_URL = "nats://127.0.0.1:4222"
DEFAULT_PARTITIONS = 1  # see bench/RESULTS.md "Partitioned event log"


@dataclass(frozen=True)
class JetStreamOptions:
    """One cluster connection's settings.

    ``namespace`` prefixes every stream, bucket and subject this deployment creates, so two
    deployments (or two tests) share one cluster without seeing each other's state.
    ``replicas`` is each stream's and bucket's replication factor: 3 survives one node down.
    """

    urls: tuple[str, ...] = (DEFAULT_URL,)
    replicas: int = 3
    namespace: str = "logsieve"
    timeout_seconds: float = 5.0
    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds_file: str | None = None  # a NATS .creds file (JWT + nkey seed)
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    # events streams, fixed when the namespace is made (logs_partitions.py); None: the
    # namespace's stored count, DEFAULT_PARTITIONS for a new one
    partitions: int | None = None

    def describe(self) -> str:
        """The cluster as errors name it: its URLs, never a credential."""
        return ", ".join(self.urls)
