"""Flow logs: CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs, with AWS's validation.

A flow log is a definition (resource, traffic type, destination, record format); the records
themselves are written by ``simulate world``, which discovers flow logs through this API as a
real consumer would. Per-resource failures are the ``Unsuccessful`` list with a 200, as AWS
answers; a malformed request as a whole is an ``InvalidParameter`` error. Wording from AWS
responses recorded by LocalStack and moto (aws-wave2.md section 4.2, 4.4).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from logsieve.errors import ServiceError
from logsieve.formats.vpc_flow import DEFAULT_FORMAT, FlowLogFormat

from .resources import KINDS, Filters, Resources, tags_from_specifications

__all__ = ["FlowLogs"]

INVALID_PARAMETER = "InvalidParameter"
_RESOURCE_KINDS = {"VPC": "vpc", "Subnet": "subnet", "NetworkInterface": "network-interface"}
_DESTINATIONS = ("cloud-watch-logs", "s3", "kinesis-data-firehose")
_INTERVALS = (60, 600)
_LOG_GROUP_ARN = "arn:aws:logs:"

FLOW_LOG_FILTERS: Filters = {
    "deliver-log-status": lambda d: [d["DeliverLogsStatus"]],
    "log-destination-type": lambda d: [d["LogDestinationType"]],
    "flow-log-id": lambda d: [d["FlowLogId"]],
    "log-group-name": lambda d: [d.get("LogGroupName", "")],
    "resource-id": lambda d: [d["ResourceId"]],
    "traffic-type": lambda d: [d.get("TrafficType", "")],
}


def _bad(message: str) -> ServiceError:
    return ServiceError(INVALID_PARAMETER, message)


def _group_from_arn(arn: str) -> str:
    """``arn:aws:logs:r:a:log-group:name[:*]`` -> ``name``."""
    parts = arn.split(":")
    if len(parts) < 7 or not arn.startswith(_LOG_GROUP_ARN) or parts[5] != "log-group":
        raise _bad(f"LogDestination: {arn} is not a valid CloudWatch Logs log group ARN.")
    name = ":".join(parts[6:])
    return name[:-2] if name.endswith(":*") else name


class FlowLogs:
    """The flow log operations over the shared resource store."""

    def __init__(self, resources: Resources, region: str, account_id: str) -> None:
        self.resources = resources
        self.region = region
        self.account_id = account_id

    def _destination(self, params: Mapping[str, Any]) -> tuple[str, str | None, str]:
        """(destination type, log group name or None, destination ARN) as AWS checks them."""
        kind = params.get("LogDestinationType") or "cloud-watch-logs"
        if kind not in _DESTINATIONS:
            raise _bad(f"Invalid LogDestinationType: {kind}")
        group, destination = params.get("LogGroupName"), params.get("LogDestination")
        if group and destination:
            raise _bad("Please only provide LogGroupName or only provide LogDestination.")
        if not group and not destination:
            raise _bad("LogDestination can't be empty if LogGroupName is not provided.")
        if group and kind != "cloud-watch-logs":
            raise _bad("LogDestination type must be cloud-watch-logs if LogGroupName is provided.")
        if kind == "cloud-watch-logs":
            if not params.get("DeliverLogsPermissionArn"):
                raise _bad(
                    "DeliverLogsPermissionArn can't be empty if LogDestinationType is "
                    "cloud-watch-logs."
                )
            if destination:
                group = _group_from_arn(destination)
            arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}"
            return kind, group, arn
        assert destination is not None
        return kind, None, destination

    def create_flow_logs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        resource_type = params["ResourceType"]
        kind = _RESOURCE_KINDS.get(resource_type)
        if kind is None:
            raise _bad(f"logsieve does not support flow logs for ResourceType {resource_type}.")
        traffic = params.get("TrafficType")
        if not traffic:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter TrafficType"
            )
        destination_type, group, destination = self._destination(params)
        interval = params.get("MaxAggregationInterval", 600)
        if interval not in _INTERVALS:
            raise _bad("Invalid Flow Log Max Aggregation Interval")
        log_format = params.get("LogFormat") or DEFAULT_FORMAT
        try:
            FlowLogFormat(log_format)
        except ValueError as bad:
            raise _bad(f"LogFormat: {bad}") from None
        ids = list(params["ResourceIds"])
        if len(ids) > 300:
            raise _bad("The number of resource ids must not exceed 300.")
        tags = tags_from_specifications(params, "vpc-flow-log")
        existing = self.resources.all("vpc-flow-log")
        created: list[str] = []
        failed: list[dict[str, Any]] = []
        for resource_id in ids:
            row = self.resources.store.get(resource_id)
            if row is None or row.kind != kind:
                missing = KINDS[kind].missing(resource_id)
                failed.append(_unsuccessful(resource_id, missing.code, missing.message))
                continue
            if any(
                flow.data["ResourceId"] == resource_id
                and flow.data.get("TrafficType") == traffic
                and flow.data["LogDestination"] == destination
                for flow in existing
            ):
                failed.append(
                    _unsuccessful(
                        resource_id, "FlowLogAlreadyExists",
                        "Error. There is an existing Flow Log with the same configuration and "
                        "log destination.",
                    )
                )  # fmt: skip
                continue
            flow = {
                "FlowLogId": "fl-" + secrets.token_hex(9)[:17],
                "CreationTime": round(self.resources.clock(), 3),
                "DeliverLogsStatus": "SUCCESS",
                "FlowLogStatus": "ACTIVE",
                "ResourceId": resource_id,
                "TrafficType": traffic,
                "LogDestinationType": destination_type,
                "LogDestination": destination,
                "LogFormat": log_format,
                "MaxAggregationInterval": interval,
            }
            if group is not None:
                flow["LogGroupName"] = group
                flow["DeliverLogsPermissionArn"] = params["DeliverLogsPermissionArn"]
            if params.get("DeliverCrossAccountRole"):
                flow["DeliverCrossAccountRole"] = params["DeliverCrossAccountRole"]
            if destination_type == "s3" and params.get("DestinationOptions"):
                flow["DestinationOptions"] = dict(params["DestinationOptions"])
            stored = self.resources.create("vpc-flow-log", flow, tags)
            existing.append(stored)
            created.append(flow["FlowLogId"])
        return {
            "ClientToken": params.get("ClientToken") or str(uuid.uuid4()),
            "FlowLogIds": created,
            "Unsuccessful": failed,
        }

    def describe_flow_logs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        items, token = self.resources.describe(
            "vpc-flow-log", params, FLOW_LOG_FILTERS, params.get("FlowLogIds") or (),
            ids_must_exist=False, filter_member="Filter", limits=(1, 1000),
        )  # fmt: skip
        return {"FlowLogs": items, "NextToken": token}

    def delete_flow_logs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        failed = []
        for flow_log_id in params["FlowLogIds"]:
            row = self.resources.store.get(flow_log_id)
            if row is None or row.kind != "vpc-flow-log":
                failed.append(
                    _unsuccessful(
                        flow_log_id, "InvalidFlowLogId.NotFound",
                        f"These flow log ids in the input list are not found: "
                        f"[TotalCount: 1] {flow_log_id}",
                    )
                )  # fmt: skip
                continue
            self.resources.store.delete(flow_log_id)
        return {"Unsuccessful": failed}


def _unsuccessful(resource_id: str, code: str, message: str) -> dict[str, Any]:
    return {"ResourceId": resource_id, "Error": {"Code": code, "Message": message}}
