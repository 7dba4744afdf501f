"""Log groups, log streams, retention and tags."""

from __future__ import annotations

from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage import LogGroup, LogStream

from .context import (
    LogsContext,
    group_token,
    invalid,
    not_found,
    resume_after,
    resume_in_group,
)

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)  # fmt: skip
MAX_TAGS = 50
DEFAULT_PAGE = 50


def _page(params: dict[str, Any]) -> int:
    return params.get("limit") or DEFAULT_PAGE


class Groups:
    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx

    # --- groups ----------------------------------------------------------------------------

    def create_log_group(self, params: dict[str, Any]) -> None:
        name = params["logGroupName"]
        if name.startswith("aws/"):
            raise invalid("Log group names starting with 'aws/' are reserved for AWS.")
        tags = params.get("tags") or {}
        if len(tags) > MAX_TAGS:
            raise self._too_many_tags(name)
        group = self.ctx.store.create_group(
            name,
            self.ctx.clock(),
            params.get("kmsKeyId"),
            params.get("logGroupClass") or "STANDARD",
        )
        if group is None:
            raise ServiceError(
                "ResourceAlreadyExistsException", "The specified log group already exists"
            )
        if tags:
            self.ctx.store.set_tags(group.id, tags)
        self._changed()

    def delete_log_group(self, params: dict[str, Any]) -> None:
        self.ctx.store.delete_group(self.ctx.group(params).id)
        self._changed()

    def _changed(self) -> None:
        """Subscriptions follow groups: standing ones wait for theirs, deleted ones stop."""
        if self.ctx.delivery is not None:
            self.ctx.delivery.subscriptions_changed()

    def describe_log_groups(self, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("logGroupNamePrefix")
        pattern = params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise invalid(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        limit = _page(params)
        after = resume_after(params, tokens.is_str)
        identifiers = params.get("logGroupIdentifiers")
        if identifiers:
            names = sorted(
                {self.ctx.group_name({"logGroupIdentifier": i}) or "" for i in identifiers}
            )
            found = [
                g for n in names if (g := self.ctx.store.group(n)) and (after is None or n > after)
            ]
        else:
            found = self.ctx.store.groups(
                prefix, pattern, params.get("logGroupClass"), after, limit + 1
            )
        more = len(found) > limit
        page = found[:limit]
        result: dict[str, Any] = {"logGroups": [self._describe_group(g) for g in page]}
        if more:
            result["nextToken"] = tokens.encode({"after": page[-1].name})
        return result

    def _describe_group(self, group: LogGroup) -> dict[str, Any]:
        arn = self.ctx.group_arn(group.name)
        return {
            "logGroupName": group.name,
            "creationTime": group.creation_time,
            "retentionInDays": group.retention_days,
            "metricFilterCount": self.ctx.store.count_metric_filters(group.id),
            "arn": arn + ":*",
            "logGroupArn": arn,
            "storedBytes": group.stored_bytes,
            "kmsKeyId": group.kms_key_id,
            "logGroupClass": group.log_group_class,
        }

    def put_retention_policy(self, params: dict[str, Any]) -> None:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            allowed = ", ".join(map(str, RETENTION_DAYS))
            raise invalid(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        self.ctx.store.set_retention(self.ctx.group(params).id, days)

    def delete_retention_policy(self, params: dict[str, Any]) -> None:
        self.ctx.store.set_retention(self.ctx.group(params).id, None)

    # --- streams ---------------------------------------------------------------------------

    def create_log_stream(self, params: dict[str, Any]) -> None:
        group = self.ctx.group(params)
        if (
            self.ctx.store.create_stream(group.id, params["logStreamName"], self.ctx.clock())
            is None
        ):
            raise ServiceError(
                "ResourceAlreadyExistsException", "The specified log stream already exists"
            )

    def delete_log_stream(self, params: dict[str, Any]) -> None:
        group = self.ctx.group(params)
        self.ctx.store.delete_stream(self.ctx.stream(group, params["logStreamName"]).id)

    def describe_log_streams(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.ctx.group(params)
        prefix = params.get("logStreamNamePrefix")
        by_last_event = params.get("orderBy") == "LastEventTime"
        if by_last_event and prefix is not None:
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(params.get("descending"))
        limit = _page(params)
        position = tokens.ints(2) if by_last_event else tokens.strs(1)
        after = resume_in_group(params, group.id, position)
        after = tuple(after) if after is not None else None
        found = self.ctx.store.streams(
            group.id, prefix, by_last_event, descending, after, limit + 1
        )
        page = found[:limit]
        result: dict[str, Any] = {"logStreams": [self._describe_stream(group, s) for s in page]}
        if len(found) > limit:
            last = page[-1]
            key = [last.last_event_timestamp or 0, last.id] if by_last_event else [last.name]
            result["nextToken"] = group_token(group.id, key)
        return result

    def _describe_stream(self, group: LogGroup, stream: LogStream) -> dict[str, Any]:
        return {
            "logStreamName": stream.name,
            "creationTime": stream.creation_time,
            "firstEventTimestamp": stream.first_event_timestamp,
            "lastEventTimestamp": stream.last_event_timestamp,
            "lastIngestionTime": stream.last_ingestion_time,
            "uploadSequenceToken": None
            if stream.last_ingestion_time is None
            else f"{stream.last_ingestion_time:056d}",
            "arn": self.ctx.stream_arn(group.name, stream.name),
            "storedBytes": 0,  # AWS stopped reporting per-stream bytes in 2019
        }

    # --- tags --------------------------------------------------------------------------------

    def _tag_target(self, arn: str) -> LogGroup:
        name = self.ctx.group_name_from_arn(arn)
        group = self.ctx.store.group(name) if name is not None else None
        if group is None:
            raise not_found(f"The specified resource does not exist: {arn}")
        return group

    def _too_many_tags(self, name: str) -> ServiceError:
        return ServiceError(
            "TooManyTagsException",
            f"A resource can have no more than {MAX_TAGS} tags.",
            extra={"resourceName": name},
        )

    def _add_tags(self, group: LogGroup, tags: dict[str, str]) -> None:
        if len(self.ctx.store.tags(group.id) | tags) > MAX_TAGS:
            raise self._too_many_tags(self.ctx.group_arn(group.name))
        self.ctx.store.set_tags(group.id, tags)

    def tag_resource(self, params: dict[str, Any]) -> None:
        self._add_tags(self._tag_target(params["resourceArn"]), params["tags"])

    def untag_resource(self, params: dict[str, Any]) -> None:
        self.ctx.store.remove_tags(self._tag_target(params["resourceArn"]).id, params["tagKeys"])

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.ctx.store.tags(self._tag_target(params["resourceArn"]).id)}

    def tag_log_group(self, params: dict[str, Any]) -> None:
        self._add_tags(self.ctx.group(params), params["tags"])

    def untag_log_group(self, params: dict[str, Any]) -> None:
        self.ctx.store.remove_tags(self.ctx.group(params).id, params["tags"])

    def list_tags_log_group(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.ctx.store.tags(self.ctx.group(params).id)}
