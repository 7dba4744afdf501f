"""SNS-compatible topics: the service (Query API operations and ``publish_internal``), its
message rules, filter policies and fan-out to email, HTTP/HTTPS and Lambda subscribers.

Public: ``SnsService`` (operations for the API, ``publish_internal`` for in-process callers such
as alert rules), ``Message`` and ``Deliverer`` (what the service hands deliveries to). The
outbox-backed ``Deliverer`` that sends them is ``logsieve.notify.sns_delivery.SnsDeliveries``
(a layer up: it sends through notify's outbox and SMTP transport).
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
