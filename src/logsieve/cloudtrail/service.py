"""The CloudTrail service: trails, their logging state and selectors, and LookupEvents.

Plain values in, plain values out, ``ServiceError`` with AWS's codes; no HTTP here. A trail's
CloudWatch Logs delivery is done by the recorder (``recorder.py``), which asks this service
which trails deliver what (:meth:`CloudTrailService.deliveries`) and reports back how it went
(:meth:`CloudTrailService.delivered`).

Differences from AWS, on purpose: S3 buckets, SNS topics and KMS keys named by a trail are
stored and returned but not checked or written to (logsieve has no S3); a trail is in this
server's one region; the role in ``CloudWatchLogsRoleArn`` is required, as on AWS, but not
assumed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from logsieve.errors import Operation, ServiceError
from logsieve.storage.trails import TrailRow, TrailStore

from . import names, selectors, tags
from .lookup import lookup_events

#: Trail members set by CreateTrail/UpdateTrail, stored under their Trail (output) names.
_SETTINGS = {
    "S3BucketName": "S3BucketName",
    "S3KeyPrefix": "S3KeyPrefix",
    "SnsTopicName": "SnsTopicName",
    "IncludeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail": "IsMultiRegionTrail",
    "EnableLogFileValidation": "LogFileValidationEnabled",
    "CloudWatchLogsLogGroupArn": "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
    "KmsKeyId": "KmsKeyId",
    "IsOrganizationTrail": "IsOrganizationTrail",
}
_DEFAULTS = {
    "IncludeGlobalServiceEvents": True,
    "IsMultiRegionTrail": False,
    "LogFileValidationEnabled": False,
    "IsOrganizationTrail": False,
}
MAX_TRAILS = 5  # trails per region on AWS


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _utc_text(ms: int | None) -> str | None:
    """GetTrailStatus' ``TimeLogging*`` strings (``2025-03-10T02:15:30Z``)."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def logged_at(row: TrailRow, time_ms: float) -> bool:
    """Whether the trail was logging when a call was made (calls are recorded a moment after
    they are answered, so StartLogging/StopLogging apply to the calls' times, not to when
    the recorder gets to them)."""
    time_ms = int(time_ms)  # the trail's times are whole milliseconds
    if row.started_ms is None or time_ms < row.started_ms:
        return False
    # StopLogging's own call arrived before (or in the millisecond) the trail stopped.
    return row.logging or row.stopped_ms is None or time_ms <= row.stopped_ms


class CloudTrailService:
    """Trails in a ``TrailStore``; ``group_exists`` says whether a log group is there."""

    def __init__(
        self,
        store: TrailStore,
        region: str,
        account_id: str,
        group_exists: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self.group_exists = group_exists
        self.clock = clock
        self._lock = threading.Lock()  # read-modify-write of one trail at a time
        self.operations: dict[str, Operation] = {
            "CreateTrail": self.create_trail,
            "UpdateTrail": self.update_trail,
            "DeleteTrail": self.delete_trail,
            "DescribeTrails": self.describe_trails,
            "GetTrail": self.get_trail,
            "GetTrailStatus": self.get_trail_status,
            "StartLogging": self.start_logging,
            "StopLogging": self.stop_logging,
            "PutEventSelectors": self.put_event_selectors,
            "GetEventSelectors": self.get_event_selectors,
            "LookupEvents": lambda params: lookup_events(self.store, params, self._now_ms()),
            "AddTags": self.add_tags,
            "RemoveTags": self.remove_tags,
            "ListTags": self.list_tags,
        }

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- helpers -------------------------------------------------------------------------

    def _trail(self, name_or_arn: str, shown: str | None = None) -> TrailRow:
        arn = names.resolve(name_or_arn, self.region, self.account_id)
        row = self.store.get_trail(arn)
        if row is None:
            raise names.not_found(shown or name_or_arn, self.account_id)
        return row

    def describe(self, row: TrailRow) -> dict[str, Any]:
        """The ``Trail`` shape of a stored trail."""
        settings = {**_DEFAULTS, **row.settings}
        out: dict[str, Any] = {
            "Name": row.name,
            **settings,
            "TrailARN": row.arn,
            "HomeRegion": row.region,
            "HasCustomEventSelectors": row.event_selectors is not None,
            "HasInsightSelectors": False,
        }
        if settings.get("SnsTopicName"):
            out["SnsTopicARN"] = (
                f"arn:aws:sns:{self.region}:{self.account_id}:{settings['SnsTopicName']}"
            )
        return out

    def _settings(self, params: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """Merge the request's members into ``current`` and check them as AWS does."""
        settings = dict(current)
        for member, stored in _SETTINGS.items():
            if member in params:
                settings[stored] = params[member]
        for key in ("CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "S3KeyPrefix",
                    "SnsTopicName", "KmsKeyId"):  # fmt: skip
            if settings.get(key) == "":
                settings.pop(key)  # an empty string turns a setting off, as on AWS
        merged = {**_DEFAULTS, **settings}
        if merged["IsMultiRegionTrail"] and not merged["IncludeGlobalServiceEvents"]:
            raise ServiceError(
                "InvalidParameterCombinationException",
                "Multi-Region trail must include global service events.",
            )
        group_arn = settings.get("CloudWatchLogsLogGroupArn")
        role_arn = settings.get("CloudWatchLogsRoleArn")
        if group_arn and not role_arn:
            raise ServiceError(
                "InvalidCloudWatchLogsRoleArnException",
                "You must specify a role ARN as well as a log group.",
            )
        if role_arn and not group_arn:
            raise ServiceError(
                "InvalidCloudWatchLogsLogGroupArnException",
                "You must specify a log group as well as a role ARN.",
            )
        if group_arn:
            group = names.log_group_name(group_arn)
            if group is None or not self.group_exists(group):
                raise ServiceError(
                    "InvalidCloudWatchLogsLogGroupArnException",
                    "CloudTrail cannot validate the specified log group ARN.",
                )
        return settings

    # -- operations ----------------------------------------------------------------------

    def create_trail(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        names.check_name(name)
        settings = self._settings(params, {})
        given = tags.checked_count(tags.tags_of(params.get("TagsList", [])))
        row = TrailRow(
            names.trail_arn(self.region, self.account_id, name), name, self.region,
            settings, given, created_ms=self._now_ms(),
        )  # fmt: skip
        with self._lock:
            if len(self.store.list_trails()) >= MAX_TRAILS:
                raise ServiceError(
                    "MaximumNumberOfTrailsExceededException",
                    f"User: {self.account_id} already has {MAX_TRAILS} trails in {self.region}.",
                )
            if not self.store.create_trail(row):
                raise ServiceError(
                    "TrailAlreadyExistsException",
                    f"Trail {name} already exists for customer: {self.account_id}",
                )
        return self._shaped(row)

    def _shaped(self, row: TrailRow) -> dict[str, Any]:
        """CreateTrail/UpdateTrail's answer: the Trail without the describe-only members."""
        out = self.describe(row)
        for key in ("HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"):
            out.pop(key)
        return out

    def update_trail(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            row = self._trail(params["Name"])
            row = dataclasses.replace(row, settings=self._settings(params, row.settings))
            self.store.put_trail(row)
        return self._shaped(row)

    def delete_trail(self, params: dict[str, Any]) -> None:
        with self._lock:
            row = self._trail(params["Name"])
            self.store.delete_trail(row.arn)

    def describe_trails(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("trailNameList") or []
        rows = self.store.list_trails()
        if wanted:
            arns = {names.resolve(n, self.region, self.account_id) for n in wanted}
            rows = [row for row in rows if row.arn in arns]
        return {"trailList": [self.describe(row) for row in rows]}

    def get_trail(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Trail": self.describe(self._trail(params["Name"]))}

    def get_trail_status(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        shown = (
            name if name.startswith("arn:") else names.trail_arn(self.region, self.account_id, name)
        )
        row = self._trail(name, shown)
        status: dict[str, Any] = {
            "IsLogging": row.logging,
            "StartLoggingTime": _seconds(row.started_ms),
            "StopLoggingTime": _seconds(row.stopped_ms),
            "TimeLoggingStarted": _utc_text(row.started_ms),
            "TimeLoggingStopped": _utc_text(row.stopped_ms),
            "LatestCloudWatchLogsDeliveryTime": _seconds(row.delivered_ms),
            "LatestCloudWatchLogsDeliveryError": row.delivery_error,
        }
        return status

    def _set_logging(self, name: str, on: bool) -> None:
        with self._lock:
            row = self._trail(name)
            now = self._now_ms()
            if on:
                row = dataclasses.replace(row, logging=True, started_ms=now)
            else:
                row = dataclasses.replace(row, logging=False, stopped_ms=now)
            self.store.put_trail(row)

    def start_logging(self, params: dict[str, Any]) -> None:
        self._set_logging(params["Name"], True)

    def stop_logging(self, params: dict[str, Any]) -> None:
        self._set_logging(params["Name"], False)

    def put_event_selectors(self, params: dict[str, Any]) -> dict[str, Any]:
        given = params.get("EventSelectors")
        advanced = params.get("AdvancedEventSelectors")
        if given is not None and advanced is not None:
            raise ServiceError(
                "InvalidParameterCombinationException",
                "You cannot apply both event selectors and advanced event selectors to a trail.",
            )
        if given is None:
            raise ServiceError(
                "UnsupportedOperationException",
                "logsieve supports basic event selectors only; send EventSelectors.",
            )
        chosen = selectors.normalised(given)
        with self._lock:
            row = self._trail(params["TrailName"])
            self.store.put_trail(dataclasses.replace(row, event_selectors=chosen))
        return {"TrailARN": row.arn, "EventSelectors": chosen}

    def get_event_selectors(self, params: dict[str, Any]) -> dict[str, Any]:
        row = self._trail(params["TrailName"])
        return {"TrailARN": row.arn, "EventSelectors": row.event_selectors or selectors.DEFAULT}

    def _tagged(self, resource_id: str) -> TrailRow:
        row = self.store.get_trail(tags.trail_arn_of(resource_id, self.region, self.account_id))
        if row is None:
            raise tags.not_accessible()
        return row

    def add_tags(self, params: dict[str, Any]) -> None:
        """Add or overwrite tags, all or none (a trail keeps at most 50)."""
        given = tags.tags_of(params["TagsList"])
        with self._lock:
            row = self._tagged(params["ResourceId"])
            merged = tags.checked_count({**row.tags, **given})
            self.store.put_trail(dataclasses.replace(row, tags=merged))

    def remove_tags(self, params: dict[str, Any]) -> None:
        """Remove tags by key (their values are not compared); absent keys are ignored."""
        keys = {tag["Key"] for tag in params["TagsList"]}
        with self._lock:
            row = self._tagged(params["ResourceId"])
            kept = {k: v for k, v in row.tags.items() if k not in keys}
            self.store.put_trail(dataclasses.replace(row, tags=kept))

    def list_tags(self, params: dict[str, Any]) -> dict[str, Any]:
        resources = params["ResourceIdList"]
        if len(resources) > tags.MAX_LISTED_RESOURCES:
            raise ServiceError(
                "InvalidParameterException",
                f"ResourceIdList has a limit of {tags.MAX_LISTED_RESOURCES} ARNs; "
                f"{len(resources)} were given.",
            )
        found = [self._tagged(resource).tags for resource in resources]
        return tags.listed_page(resources, found, params.get("NextToken"))

    # -- for the recorder ----------------------------------------------------------------

    def deliveries(self) -> Sequence[tuple[TrailRow, str]]:
        """Trails that have logged, with a CloudWatch Logs group: (trail, group name).
        Which calls each delivers depends on when they were made (:func:`logged_at`)."""
        found = []
        for row in self.store.list_trails():
            group_arn = row.settings.get("CloudWatchLogsLogGroupArn")
            group = names.log_group_name(group_arn) if group_arn else None
            if row.started_ms is not None and group:
                found.append((row, group))
        return found

    def delivered(self, arn: str, error: str | None) -> None:
        """Note the outcome of a delivery to the trail's group (GetTrailStatus shows it)."""
        with self._lock:
            row = self.store.get_trail(arn)
            if row is None:
                return
            if error is None:
                row = dataclasses.replace(row, delivered_ms=self._now_ms(), delivery_error=None)
            else:
                row = dataclasses.replace(row, delivery_error=error)
            self.store.put_trail(row)
