"""The alarm operations of the CloudWatch API: PutMetricAlarm, DescribeAlarms(ForMetric),
DescribeAlarmHistory, DeleteAlarms, SetAlarmState, Enable/DisableAlarmActions and tags.

Plain values in and out, ``ServiceError`` with the model's exception names; no HTTP. Every
state change (SetAlarmState here, evaluations from ``ticker.py``) goes through
``change_state``, which writes the state and its history item in one transaction and then
hands the transition's actions to the actions runner, so actions run on transitions only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import msgspec

from logsieve import tokens
from logsieve.errors import Operation, ServiceError
from logsieve.storage.alarms import AlarmRow, AlarmStore, StateChange

from . import history
from .errors import TAGS_NOT_FOUND, combination, invalid, not_found
from .model import alarm_arn, describe, dimensions_of
from .validation import alarm_config


class Actions(Protocol):
    """What runs a transition's actions (``actions.AlarmActions``)."""

    def plan(self, after: AlarmRow, before: AlarmRow) -> list[tuple[str, bytes]]: ...

    def hand_on(self) -> None: ...


DEFAULT_PAGE = 50  # DescribeAlarms' MaxRecords default
HISTORY_PAGE = 100
MAX_TAGS = 50


def _token(state_key: str, check: tokens.Check) -> Callable[[Any], Any]:
    """A reader of NextTokens holding one ``state_key``; InvalidNextToken for any other."""

    def read(token: Any) -> Any:
        if token is None:
            return None
        state = tokens.decode(token, {state_key: check})
        if state is None:
            raise ServiceError("InvalidNextToken", "The service returned an invalid token.")
        return state[state_key]

    return read


_after_name = _token("after", tokens.is_str)
_after_seq = _token("seq", tokens.is_int)


class AlarmService:
    """Metric alarms in an ``AlarmStore``; transitions reported to ``listener``."""

    def __init__(
        self,
        store: AlarmStore,
        region: str,
        account_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.actions: Actions | None = None
        self._state_lock = threading.Lock()
        operations: dict[str, Operation] = {
            "PutMetricAlarm": self.put_metric_alarm,
            "DescribeAlarms": self.describe_alarms,
            "DescribeAlarmsForMetric": self.describe_alarms_for_metric,
            "DescribeAlarmHistory": self.describe_alarm_history,
            "DeleteAlarms": self.delete_alarms,
            "SetAlarmState": self.set_alarm_state,
            "EnableAlarmActions": self.enable_alarm_actions,
            "DisableAlarmActions": self.disable_alarm_actions,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }
        self.operations = {name: _plain_params(op) for name, op in operations.items()}

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def arn(self, name: str) -> str:
        return alarm_arn(self.region, self.account_id, name)

    # -- state --------------------------------------------------------------------------

    def change_state(
        self,
        old: AlarmRow,
        value: str,
        reason: str,
        reason_data: str | None,
        any_configuration: bool = False,
    ) -> AlarmRow | None:
        """Set ``old``'s state, with its StateUpdate history item and (on a transition) its
        actions, unless its configuration changed since ``old`` was read (or it is gone)."""
        with self._state_lock:  # one transition at a time per server: actions keep order
            current = self.store.get_alarm(old.name)
            if current is None:
                return None
            now = self._now_ms()
            moved = current.state_value != value
            after = replace(
                current,
                state_value=value,
                state_reason=reason,
                state_reason_data=reason_data,
                state_updated_ms=now,
                state_transitioned_ms=now if moved else current.state_transitioned_ms,
            )
            planned = self.actions.plan(after, current) if self.actions and moved else []
            change = StateChange(
                value,
                reason,
                reason_data,
                now,
                None if any_configuration else old.config_updated_ms,
                planned,
            )
            item = history.state_update(old.name, current, value, reason, reason_data, now)
            row = self.store.set_state(old.name, change, [item])
        if row is not None and planned and self.actions:
            self.actions.hand_on()
        return row

    # -- operations ----------------------------------------------------------------------

    def put_metric_alarm(self, params: dict[str, Any]) -> None:
        config = alarm_config(params)
        tags = self._tags(params.get("Tags") or [])
        name = params["AlarmName"]
        now = self._now_ms()
        before = self.store.get_alarm(name)
        row = AlarmRow(
            name, config, state_updated_ms=now, state_transitioned_ms=now,
            config_updated_ms=now, tags=tags,
        )  # fmt: skip
        if before is None:
            item = history.configuration_update("Create", row, self.arn(name), now)
        else:
            after = AlarmRow(**{**before.__dict__, "config": config, "config_updated_ms": now})
            item = history.configuration_update("Update", after, self.arn(name), now, before)
        self.store.put_alarm(row, [item])
        return None

    def _tags(self, tags: Sequence[dict[str, str]]) -> dict[str, str]:
        if len(tags) > MAX_TAGS:
            raise invalid(f"The collection Tags must not have a size greater than {MAX_TAGS}.")
        return {tag["Key"]: tag["Value"] for tag in tags}

    def describe_alarms(self, params: dict[str, Any]) -> dict[str, Any]:
        names, prefix = params.get("AlarmNames"), params.get("AlarmNamePrefix")
        if names and prefix:
            raise combination(
                "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you "
                "have specified both."
            )
        limit = params.get("MaxRecords") or DEFAULT_PAGE
        after = _after_name(params.get("NextToken"))
        out: dict[str, Any] = {"CompositeAlarms": [], "MetricAlarms": []}
        types = params.get("AlarmTypes")
        if (
            (types is not None and "MetricAlarm" not in types)
            or params.get("ChildrenOfAlarmName")
            or params.get("ParentsOfAlarmName")
        ):
            return out  # composite alarms are not emulated: none exist
        if names:
            rows = [row for n in sorted(set(names)) if (row := self.store.get_alarm(n))]
            rows = [row for row in rows if after is None or row.name > after]
        else:
            rows = list(self.store.list_alarms(after_name=after, prefix=prefix))
        state, action = params.get("StateValue"), params.get("ActionPrefix")
        if state:
            rows = [row for row in rows if row.state_value == state]
        if action:
            rows = [row for row in rows if _has_action(row, action)]
        page = rows[:limit]
        out["MetricAlarms"] = [describe(row, self.region, self.account_id) for row in page]
        if len(rows) > limit:
            out["NextToken"] = tokens.encode({"after": page[-1].name})
        return out

    def describe_alarms_for_metric(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted_dims = {d["Name"]: d["Value"] for d in params.get("Dimensions") or []}
        found = []
        for row in self.store.list_alarms():
            config = row.config
            if config.get("Namespace") != params["Namespace"]:
                continue
            if config.get("MetricName") != params["MetricName"]:
                continue
            if "Dimensions" in params and dimensions_of(config) != wanted_dims:
                continue
            if any(
                params.get(key) is not None and config.get(key) != params[key]
                for key in ("Statistic", "ExtendedStatistic", "Period", "Unit")
            ):
                continue
            found.append(describe(row, self.region, self.account_id))
        return {"MetricAlarms": found}

    def describe_alarm_history(self, params: dict[str, Any]) -> dict[str, Any]:
        types = params.get("AlarmTypes")
        if types is not None and "MetricAlarm" not in types:
            return {"AlarmHistoryItems": []}
        start, end = params.get("StartDate"), params.get("EndDate")
        if start is not None and end is not None and start >= end:
            raise invalid("The parameter StartDate must be less than the parameter EndDate.")
        limit = params.get("MaxRecords") or HISTORY_PAGE
        newest_first = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        rows = self.store.history(
            params.get("AlarmName"),
            params.get("HistoryItemType"),
            None if start is None else int(start * 1000),
            None if end is None else int(end * 1000),
            newest_first,
            _after_seq(params.get("NextToken")),
            limit + 1,
        )
        page = list(rows[:limit])
        out: dict[str, Any] = {
            "AlarmHistoryItems": [
                {
                    "AlarmName": row.alarm_name,
                    "AlarmType": row.alarm_type,
                    "Timestamp": row.timestamp_ms / 1000,
                    "HistoryItemType": row.item_type,
                    "HistorySummary": row.summary,
                    "HistoryData": row.data,
                }
                for row in page
            ]
        }
        if len(rows) > limit:
            out["NextToken"] = tokens.encode({"seq": page[-1].seq})
        return out

    def delete_alarms(self, params: dict[str, Any]) -> None:
        now = self._now_ms()
        items = [
            history.configuration_update("Delete", row, self.arn(row.name), now)
            for name in params["AlarmNames"]
            if (row := self.store.get_alarm(name)) is not None
        ]
        self.store.delete_alarms(params["AlarmNames"], items)
        return None

    def set_alarm_state(self, params: dict[str, Any]) -> None:
        data = params.get("StateReasonData")
        if data is not None:
            try:
                json.loads(data)
            except ValueError:
                raise ServiceError(
                    "InvalidFormatFault", "The parameter StateReasonData is not valid JSON."
                ) from None
        old = self.store.get_alarm(params["AlarmName"])
        if old is None:
            raise not_found()
        self.change_state(
            old, params["StateValue"], params["StateReason"], data, any_configuration=True
        )
        return None

    def _set_actions_enabled(self, names: Sequence[str], enabled: bool) -> None:
        for name in dict.fromkeys(names):
            row = self.store.get_alarm(name)
            if row is not None:
                self.store.set_config(name, {**row.config, "ActionsEnabled": enabled})

    def enable_alarm_actions(self, params: dict[str, Any]) -> None:
        self._set_actions_enabled(params["AlarmNames"], True)

    def disable_alarm_actions(self, params: dict[str, Any]) -> None:
        self._set_actions_enabled(params["AlarmNames"], False)

    def _alarm_name(self, arn: str) -> str:
        prefix = f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:"
        if not arn.startswith(prefix):
            if arn.startswith("arn:aws:cloudwatch:") and ":alarm:" in arn:
                raise ServiceError(TAGS_NOT_FOUND, f"Resource {arn} not found.", 404)
            raise invalid(f"Invalid value for parameter ResourceARN: {arn}")
        return arn[len(prefix) :]

    def _tagged(self, row: AlarmRow | None, arn: str) -> AlarmRow:
        if row is None:
            raise ServiceError(TAGS_NOT_FOUND, f"Resource {arn} not found.", 404)
        return row

    def tag_resource(self, params: dict[str, Any]) -> None:
        arn = params["ResourceARN"]
        name = self._alarm_name(arn)
        tags = self._tags(params["Tags"])
        row = self._tagged(self.store.get_alarm(name), arn)
        if len({**row.tags, **tags}) > MAX_TAGS:
            raise invalid(f"A resource can have at most {MAX_TAGS} tags.")
        self._tagged(self.store.tag(name, tags), arn)

    def untag_resource(self, params: dict[str, Any]) -> None:
        arn = params["ResourceARN"]
        self._tagged(self.store.untag(self._alarm_name(arn), params["TagKeys"]), arn)

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceARN"]
        row = self._tagged(self.store.get_alarm(self._alarm_name(arn)), arn)
        return {"Tags": [{"Key": k, "Value": v} for k, v in row.tags.items()]}


def _plain(value: Any) -> Any:
    """Request values as plain JSON data (the fast decoder hands list elements as structs),
    without the members left unset: what the store keeps."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return _plain(msgspec.structs.asdict(value))
    return value


def _plain_params(operation: Operation) -> Operation:
    return lambda params: operation(_plain(params))


def _has_action(row: AlarmRow, prefix: str) -> bool:
    return any(
        action.startswith(prefix)
        for key in ("OKActions", "AlarmActions", "InsufficientDataActions")
        for action in row.config.get(key, [])
    )
