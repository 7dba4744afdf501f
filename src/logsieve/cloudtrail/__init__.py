"""CloudTrail: trails, the event history, and the recording of this server's own API calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logsieve.storage.trails import TrailStore

from .calls import ApiCall
from .recorder import Recorder, group_exists, logs_deliverer
from .records import Identities
from .service import CloudTrailService

__all__ = ["ApiCall", "CloudTrailService", "Identities", "Recorder", "build_cloudtrail"]


def build_cloudtrail(
    store: TrailStore,
    region: str,
    account_id: str,
    logs_operations: dict[str, Any],
    identities: Callable[[str], dict[str, Any]],
) -> tuple[CloudTrailService, Recorder]:
    """The service and its recorder (not started), delivering through the Logs operations."""
    service = CloudTrailService(store, region, account_id, group_exists(logs_operations))
    recorder = Recorder(service, store, identities, logs_deliverer(logs_operations))
    return service, recorder
