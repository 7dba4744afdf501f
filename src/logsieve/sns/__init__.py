"""SNS-compatible topics: the service (Query API operations and ``publish_internal``), its
message rules, filter policies, and the deliveries to email, HTTP/HTTPS and Lambda subscribers.

Public: ``SnsService`` (operations for the API, ``publish_internal`` for in-process callers such
as alert rules), ``Message`` and ``Deliverer`` (what the service hands deliveries to).
``delivery.SnsDeliveries`` (the outbox-backed ``Deliverer``) is imported from its module: it
pulls in httpx, cryptography and the outbox.
"""

from __future__ import annotations

from .messages import Message
from .service import LISTED_PENDING_ARN, PENDING_ARN, Deliverer, SnsService

__all__ = [
    "LISTED_PENDING_ARN",
    "PENDING_ARN",
    "Deliverer",
    "Message",
    "SnsService",
]
