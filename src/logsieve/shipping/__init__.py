"""Send log lines to a CloudWatch Logs API the way an agent does.

Batching within PutLogEvents' limits (``batching``), signed botocore clients (``client``),
sending with retries and rejected-event reports (``sender``, ``pool``), and the two jobs built
on them: ``put`` (a file or stdin, once) and ``ship`` (follow a file, resume after restarts).
The simulators (``logsieve.simulate``) send through the same batcher and senders.
"""

from __future__ import annotations

from .batching import Batch, Batcher
from .client import Target, target_from_config
from .errors import Interrupted, ShippingError
from .follow import Follower, Position
from .pool import SenderPool
from .put import PutStats, put_lines
from .sender import Rejected, RetryPolicy, Sender, SendResult
from .ship import ShipStats, ship_file
from .state import PositionStore, default_state_path
from .timestamps import Stamper, parse_leading_timestamp

__all__ = [
    "Batch",
    "Batcher",
    "Follower",
    "Interrupted",
    "Position",
    "PositionStore",
    "PutStats",
    "Rejected",
    "RetryPolicy",
    "SendResult",
    "Sender",
    "SenderPool",
    "ShipStats",
    "ShippingError",
    "Stamper",
    "Target",
    "default_state_path",
    "parse_leading_timestamp",
    "put_lines",
    "ship_file",
    "target_from_config",
]
