"""Trail tags: AddTags, RemoveTags and ListTags' rules, apart from the trail operations.

CloudTrail names a tagged resource by ARN only (a bare trail name is refused), answers for
another account's ARN and for a trail that is not there alike (so ARNs cannot be probed), and
keeps at most 50 tags per trail; a tag may have no value (``null``). logsieve has trails only:
an event data store, channel or dashboard ARN is never found.

Messages: "You must specify an ARN that the caller account can access." is AWS's answer to
ListTags for a trail ARN that does not exist (a recorded CLI session); the limit's message is
the model's text; the others are logsieve's wording of the model's exception descriptions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError

from . import names

MAX_TAGS = 50  # per trail
MAX_LISTED_RESOURCES = 20  # ListTags' ResourceIdList
PAGE_TAGS = 100  # ListTags ends a page after the trail that reaches this many tags

Tags = dict[str, str | None]

_RESOURCE = re.compile(
    r"arn:aws[a-z-]*:cloudtrail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>trail|eventdatastore|channel|dashboard)/(?P<name>.+)"
)
_SYMBOLS = frozenset("_.:/=+-@")


def tags_of(given: Sequence[Mapping[str, Any]]) -> Tags:
    """The request's ``TagsList`` as a dict, after AWS's checks on keys and values."""
    out: Tags = {}
    for tag in given:
        key, value = tag["Key"], tag.get("Value")
        if key in out:
            raise invalid(f"Duplicate tag keys are not allowed: {key}.")
        if key.lower().startswith("aws:"):
            raise invalid(f"Tag keys starting with 'aws:' are reserved for internal use: {key}.")
        if not _allowed(key):
            raise invalid(f"Tag key {key} may only contain letters, numbers, spaces and _.:/=+-@.")
        if value is not None and not _allowed(value):
            raise invalid(
                f"Tag value {value} of key {key} may only contain letters, numbers, spaces and "
                "_.:/=+-@."
            )
        out[key] = value
    return out


def checked_count(tags: Tags) -> Tags:
    """``tags`` unless they are more than a trail may have."""
    if len(tags) > MAX_TAGS:
        raise ServiceError(
            "TagsLimitExceededException",
            "The number of tags per trail has exceeded the permitted amount. "
            f"Currently, the limit is {MAX_TAGS}.",
        )
    return tags


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidTagParameterException", message)


def _allowed(text: str) -> bool:
    """AWS's tag alphabet ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*``."""
    return all(
        c in _SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text
    )  # fmt: skip


def trail_arn_of(resource_id: str, region: str, account_id: str) -> str:
    """The ARN of the trail ``resource_id`` names, refused as AWS refuses it; the caller
    still looks the trail up and answers :func:`not_accessible` when it is not there."""
    found = _RESOURCE.fullmatch(resource_id)
    if found is None:
        raise ServiceError(
            "CloudTrailARNInvalidException",
            f"Invalid trail ARN: {resource_id}. The ARN must be in the format "
            "arn:aws:cloudtrail:<region>:<account-id>:trail/<trail-name>.",
        )
    if found["account"] != account_id or found["region"] != region:
        raise not_accessible()
    if found["kind"] != "trail":
        raise ServiceError("ResourceNotFoundException", f"Resource {resource_id} not found.")
    return names.trail_arn(region, account_id, found["name"])


def not_accessible() -> ServiceError:
    return ServiceError(
        "CloudTrailARNInvalidException",
        "You must specify an ARN that the caller account can access.",
    )


def listed_page(
    resources: Sequence[str], tags: Sequence[Tags], token: str | None
) -> dict[str, Any]:
    """ListTags' answer from the resources and their tags (in request order): a page ends
    after the trail whose tags reach ``PAGE_TAGS``; a trail is never split across pages."""
    start = 0
    if token is not None:
        state = tokens.decode(token, {"i": tokens.is_int, "n": tokens.is_int})
        if state is None or state["n"] != len(resources) or not 0 < state["i"] < len(resources):
            raise ServiceError("InvalidTokenException", "Invalid token.")
        start = state["i"]
    page, count, end = [], 0, start
    while end < len(resources) and count < PAGE_TAGS:
        listed = [{"Key": k, "Value": v} if v is not None else {"Key": k}
                  for k, v in sorted(tags[end].items())]  # fmt: skip
        page.append({"ResourceId": resources[end], "TagsList": listed})
        count += len(listed)
        end += 1
    out: dict[str, Any] = {"ResourceTagList": page}
    if end < len(resources):
        out["NextToken"] = tokens.encode({"i": end, "n": len(resources)})
    return out
