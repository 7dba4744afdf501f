"""Log groups and streams: prefix search, retention, tags, sizes and filter counts, streams by
last event, create and delete (with a confirmation page, so it works without JavaScript).

Every change goes through the Logs service's operations, so the console obeys the rules the
API does and shows AWS's own error message when it refuses.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from logsieve.errors import ServiceError
from logsieve.logs.groups import RETENTION_DAYS

from ..page import Page, form, logs_call, query
from ..render import render, url

PAGE_SIZE = 50


def _back(path: str, **params: str) -> RedirectResponse:
    """Post/redirect/get: the page the change was made from, with its notice."""
    return RedirectResponse(url(path, **params), 303)


async def _describe(request: Request, group: dict[str, Any]) -> dict[str, Any]:
    """A group's row: DescribeLogGroups' fields plus its tags and subscription filters."""
    name = group["logGroupName"]
    tags, subscriptions = await asyncio.gather(
        logs_call(request, "ListTagsLogGroup", logGroupName=name),
        logs_call(request, "DescribeSubscriptionFilters", logGroupName=name),
    )
    return {
        **group,
        "tags": tags.get("tags", {}),
        "subscriptionFilterCount": len(subscriptions.get("subscriptionFilters", [])),
    }


async def groups(request: Request, error: str = "", status: int = 200) -> Response:
    prefix = query(request, "prefix")
    token = query(request, "next")
    try:
        found = await logs_call(
            request, "DescribeLogGroups", logGroupNamePrefix=prefix or None,
            nextToken=token or None, limit=PAGE_SIZE,
        )  # fmt: skip
        rows = await asyncio.gather(*(_describe(request, g) for g in found["logGroups"]))
    except ServiceError as failure:
        found, rows, error, status = {}, [], f"{failure.code}: {failure.message}", 400
    return await render(
        request, "groups.html.j2", status, active="groups", rows=rows, prefix=prefix,
        next_token=found.get("nextToken"), error=error, notice=query(request, "notice"),
    )  # fmt: skip


async def create_group(request: Request) -> Response:
    name = (await form(request)).get("logGroupName", "").strip()
    try:
        await logs_call(request, "CreateLogGroup", logGroupName=name)
    except ServiceError as failure:
        return await groups(request, f"{failure.code}: {failure.message}", 400)
    return _back("/group", name=name, notice=f"Created log group {name}.")


async def group(request: Request) -> Response:
    return await _group_page(request, query(request, "name"))


async def _group_page(request: Request, name: str, error: str = "", status: int = 200) -> Response:
    """A group's page: its details, its settings' forms, its streams (by last event)."""
    prefix = query(request, "prefix")
    token = query(request, "next")
    try:
        found = await logs_call(request, "DescribeLogGroups", logGroupNamePrefix=name, limit=1)
        described = found["logGroups"]
        if not described or described[0]["logGroupName"] != name:
            return await render(request, "missing.html.j2", 404, what=f"log group {name}")
        info = await _describe(request, described[0])
        streams = await logs_call(
            request, "DescribeLogStreams", logGroupName=name,
            logStreamNamePrefix=prefix or None,
            orderBy=None if prefix else "LastEventTime", descending=not prefix,
            nextToken=token or None, limit=PAGE_SIZE,
        )  # fmt: skip
    except ServiceError as failure:
        return await render(
            request, "missing.html.j2", 404, what=f"{failure.code}: {failure.message}"
        )
    return await render(
        request, "group.html.j2", status, active="groups", group=info,
        streams=streams.get("logStreams", []), next_token=streams.get("nextToken"),
        prefix=prefix, retention_days=RETENTION_DAYS, error=error,
        notice=query(request, "notice"),
    )  # fmt: skip


async def _change(request: Request, operation: str, notice: str, **params: Any) -> Response:
    """Run a change on the group named in the form; back to its page, or its error there."""
    name = (await form(request)).get("logGroupName", "")
    try:
        await logs_call(request, operation, logGroupName=name, **params)
    except ServiceError as failure:
        return await _group_page(request, name, f"{failure.code}: {failure.message}", 400)
    return _back("/group", name=name, notice=notice)


async def retention(request: Request) -> Response:
    days = (await form(request)).get("retentionInDays", "")
    if days in ("", "never"):
        return await _change(request, "DeleteRetentionPolicy", "Events never expire.")
    if not days.isdigit():
        days = "0"  # the service words the refusal, as for any value outside its set
    return await _change(
        request, "PutRetentionPolicy", f"Events expire after {days} days.",
        retentionInDays=int(days),
    )  # fmt: skip


async def tag(request: Request) -> Response:
    values = await form(request)
    key, value = values.get("key", "").strip(), values.get("value", "")
    return await _change(request, "TagLogGroup", f"Tagged {key}.", tags={key: value})


async def untag(request: Request) -> Response:
    key = (await form(request)).get("key", "")
    return await _change(request, "UntagLogGroup", f"Removed tag {key}.", tags=[key])


async def create_stream(request: Request) -> Response:
    stream = (await form(request)).get("logStreamName", "").strip()
    return await _change(
        request, "CreateLogStream", f"Created log stream {stream}.", logStreamName=stream
    )


async def confirm_delete(request: Request) -> Response:
    """The confirmation page: what will be deleted, and the one button that deletes it."""
    return await render(
        request, "confirm_delete.html.j2", active="groups", group=query(request, "name"),
        stream=query(request, "stream"),
    )  # fmt: skip


async def delete(request: Request) -> Response:
    values = await form(request)
    name, stream = values.get("logGroupName", ""), values.get("logStreamName", "")
    if stream:
        return await _change(
            request, "DeleteLogStream", f"Deleted log stream {stream}.", logStreamName=stream
        )
    try:
        await logs_call(request, "DeleteLogGroup", logGroupName=name)
    except ServiceError as failure:
        return await groups(request, f"{failure.code}: {failure.message}", 400)
    return _back("/groups", notice=f"Deleted log group {name}.")


PAGE = Page(
    name="groups",
    title="Log groups",
    nav="/groups",
    order=10,
    routes=[
        Route("/groups", groups, methods=["GET"]),
        Route("/groups/create", create_group, methods=["POST"]),
        Route("/group", group, methods=["GET"]),
        Route("/group/retention", retention, methods=["POST"]),
        Route("/group/tag", tag, methods=["POST"]),
        Route("/group/untag", untag, methods=["POST"]),
        Route("/group/streams/create", create_stream, methods=["POST"]),
        Route("/group/delete", confirm_delete, methods=["GET"]),
        Route("/group/delete", delete, methods=["POST"]),
    ],
)
