"""What every EC2 resource kind shares: ids, tags, filters, paging and not-found errors.

A resource is stored as EC2 describes it (the output shape's members), so a Describe call is
a filter over stored rows plus the tags put back under the kind's tag member. Kinds are named
as EC2's ``ResourceType`` names them (``vpc``, ``vpc-flow-log``...), which is what
``TagSpecifications`` and ``DescribeTags`` use.
"""

from __future__ import annotations

import fnmatch
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage.ec2 import Ec2Store, ResourceRow

__all__ = [
    "INVALID_PARAMETER_VALUE",
    "KINDS",
    "Filters",
    "Kind",
    "Resources",
    "invalid",
    "new_id",
]

INVALID_PARAMETER_VALUE = "InvalidParameterValue"
MAX_TAGS = 50

#: A kind's filters: filter name -> the values a resource has for it.
Filters = Mapping[str, Callable[[Mapping[str, Any]], Iterable[Any]]]


def invalid(message: str, code: str = INVALID_PARAMETER_VALUE) -> ServiceError:
    return ServiceError(code, message)


def new_id(prefix: str) -> str:
    """An id in EC2's long format: the prefix and 17 hexadecimal digits."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


@dataclass(frozen=True)
class Kind:
    """One resource kind: its id prefix, the member its id and tags are described under, and
    the not-found error EC2 answers (``InvalidVpcID.NotFound``: "The vpc ID 'x' does not
    exist")."""

    name: str
    prefix: str
    id_member: str
    not_found: str
    noun: str
    tag_member: str = "Tags"
    taggable: bool = True

    def missing(self, resource_id: str) -> ServiceError:
        return ServiceError(self.not_found, f"The {self.noun} ID '{resource_id}' does not exist")


KINDS = {
    kind.name: kind
    for kind in (
        Kind("vpc", "vpc", "VpcId", "InvalidVpcID.NotFound", "vpc"),
        Kind("subnet", "subnet", "SubnetId", "InvalidSubnetID.NotFound", "subnet"),
        Kind(
            "network-interface", "eni", "NetworkInterfaceId",
            "InvalidNetworkInterfaceID.NotFound", "network interface", "TagSet",
        ),
        Kind("vpc-flow-log", "fl", "FlowLogId", "InvalidFlowLogId.NotFound", "flow log"),
        Kind(
            "client-vpn-endpoint", "cvpn-endpoint", "ClientVpnEndpointId",
            "InvalidClientVpnEndpointId.NotFound", "Client VPN endpoint",
        ),
        Kind(
            "client-vpn-connection", "cvpn-connection", "ConnectionId",
            "InvalidClientVpnConnectionId.NotFound", "Client VPN connection",
        ),
        Kind(
            "client-vpn-target-network", "cvpn-assoc", "AssociationId",
            "InvalidClientVpnAssociationIdNotFound", "target network association",
            taggable=False,
        ),
    )
}  # fmt: skip
_BY_PREFIX = sorted(KINDS.values(), key=lambda kind: -len(kind.prefix))


def kind_of(resource_id: str) -> Kind | None:
    """The kind an id's prefix names (``cvpn-endpoint-`` before ``vpc-``... longest first)."""
    for kind in _BY_PREFIX:
        if resource_id.startswith(kind.prefix + "-"):
            return kind
    return None


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _tag_dict(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key = item.get("Key")
        if not key:
            raise invalid("Tag keys must not be empty", "InvalidParameterValue")
        if key.lower().startswith("aws:"):
            raise invalid("Tag keys starting with 'aws:' are reserved for internal use")
        out[key] = str(item.get("Value", ""))
    if len(out) > MAX_TAGS:
        raise ServiceError("TagLimitExceeded", f"The maximum number of tags is {MAX_TAGS}")
    return out


def tags_from_specifications(params: Mapping[str, Any], kind: str) -> dict[str, str]:
    """The tags ``TagSpecifications`` gives a new resource of ``kind``."""
    tags: dict[str, str] = {}
    for spec in params.get("TagSpecifications") or ():
        resource_type = spec.get("ResourceType")
        if resource_type != kind:
            raise invalid(
                f"'{resource_type}' is not a valid taggable resource type for this operation."
            )
        tags.update(_tag_dict(spec.get("Tags") or ()))
    return tags


def _matches(values: Iterable[Any], wanted: Sequence[str]) -> bool:
    texts = [_as_text(value) for value in values]
    return any(fnmatch.fnmatchcase(text, pattern) for text in texts for pattern in wanted)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tag_values(tags: Mapping[str, str], name: str) -> Iterable[str] | None:
    if name.startswith("tag:"):
        key = name[4:]
        return [tags[key]] if key in tags else []
    if name == "tag-key":
        return list(tags)
    if name == "tag-value":
        return list(tags.values())
    return None


class Resources:
    """The store seen as EC2 resources of every kind."""

    def __init__(self, store: Ec2Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def create(self, kind: str, data: dict[str, Any], tags: Mapping[str, str]) -> ResourceRow:
        """Store a new resource whose id is ``data[<id member>]``."""
        spec = KINDS.get(kind)
        resource_id = data[spec.id_member] if spec else data["id"]
        return self.store.create(
            ResourceRow(resource_id, kind, data, dict(tags), int(self.clock() * 1000))
        )

    def require(self, kind: str, resource_id: str) -> ResourceRow:
        """The resource, or the kind's not-found error."""
        row = self.store.get(resource_id) if resource_id else None
        if row is None or row.kind != kind:
            raise KINDS[kind].missing(resource_id)
        return row

    def all(self, kind: str) -> list[ResourceRow]:
        out: list[ResourceRow] = []
        after = 0
        while True:
            page = self.store.list(kind, after, 1000)
            out.extend(page)
            if len(page) < 1000:
                return out
            after = page[-1].seq

    def view(self, row: ResourceRow) -> dict[str, Any]:
        """The resource as Describe shows it: its data with its tags (``_``-prefixed keys are
        the service's own bookkeeping, never shown)."""
        spec = KINDS.get(row.kind)
        out = {key: value for key, value in row.data.items() if not key.startswith("_")}
        if spec is not None and row.tags:
            out[spec.tag_member] = tag_list(row.tags)
        return out

    def describe(
        self,
        kind: str,
        params: Mapping[str, Any],
        filters: Filters,
        ids: Sequence[str] = (),
        *,
        ids_must_exist: bool = True,
        filter_member: str = "Filters",
        limits: tuple[int, int] = (5, 1000),
        keep: Callable[[ResourceRow], bool] | None = None,
        show: Callable[[ResourceRow], dict[str, Any]] | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``kind`` (described), in creation order: those ``ids`` name (each must
        exist unless ``ids_must_exist`` is false) that ``keep`` keeps and that pass every filter,
        each as ``show`` (default ``view``) shows it, and the next token."""
        conditions = self._conditions(params.get(filter_member) or (), filters)
        max_results = params.get("MaxResults")
        if max_results is not None and not limits[0] <= max_results <= limits[1]:
            raise invalid(
                f"Value ( {max_results} ) for parameter maxResults is invalid. "
                f"Expecting a value between {limits[0]} and {limits[1]}."
            )
        after = 0
        token = params.get("NextToken")
        if token:
            state = tokens.decode(token, {"seq": tokens.is_int})
            if state is None:
                raise invalid(f"The token '{token}' is invalid.", "InvalidPaginationToken")
            after = state["seq"]
        rows = self.all(kind)
        if ids:
            by_id = {row.id: row for row in rows}
            if ids_must_exist:
                for resource_id in ids:
                    if resource_id not in by_id:
                        raise KINDS[kind].missing(resource_id)
            wanted = set(ids)
            rows = [row for row in rows if row.id in wanted]
        chosen = [
            row for row in rows
            if row.seq > after and (keep is None or keep(row)) and self._passes(row, conditions)
        ]  # fmt: skip
        limit = max_results or len(chosen) or 1
        page = chosen[:limit]
        next_token = tokens.encode({"seq": page[-1].seq}) if len(chosen) > limit else None
        return [(show or self.view)(row) for row in page], next_token

    @staticmethod
    def _conditions(
        given: Iterable[Mapping[str, Any]], filters: Filters
    ) -> list[tuple[str, Callable[[Mapping[str, Any]], Iterable[Any]] | None, list[str]]]:
        out = []
        for item in given:
            name = item.get("Name") or ""
            values = list(item.get("Values") or ())
            known = filters.get(name)
            if known is None and _tag_values({}, name) is None:
                raise invalid(f"The filter '{name}' is invalid", "InvalidParameterValue")
            out.append((name, known, values))
        return out

    @staticmethod
    def _passes(
        row: ResourceRow,
        conditions: Iterable[
            tuple[str, Callable[[Mapping[str, Any]], Iterable[Any]] | None, list[str]]
        ],
    ) -> bool:
        for name, getter, wanted in conditions:
            values = getter(row.data) if getter else _tag_values(row.tags, name) or ()
            if not _matches(values, wanted):
                return False
        return True

    # -- tags ----------------------------------------------------------------------------

    def tagged(self, resource_id: str) -> ResourceRow:
        """A taggable resource by id, or the not-found error its id's kind answers."""
        kind = kind_of(resource_id)
        if kind is None or not kind.taggable:
            raise invalid(f'Invalid id: "{resource_id}"', "InvalidID")
        return self.require(kind.name, resource_id)

    def add_tags(self, resource_ids: Sequence[str], tags: Iterable[Mapping[str, Any]]) -> None:
        new = _tag_dict(tags)
        rows = [self.tagged(resource_id) for resource_id in resource_ids]  # all or none
        for row in rows:
            merged = {**row.tags, **new}
            if len(merged) > MAX_TAGS:
                raise ServiceError("TagLimitExceeded", f"The maximum number of tags is {MAX_TAGS}")
            self.store.update(row.id, tags=merged)

    def remove_tags(
        self, resource_ids: Sequence[str], tags: Iterable[Mapping[str, Any]] | None
    ) -> None:
        rows = [self.tagged(resource_id) for resource_id in resource_ids]
        for row in rows:
            if tags is None:
                kept: dict[str, str] = {}
            else:
                kept = dict(row.tags)
                for tag in tags:
                    key, value = tag.get("Key"), tag.get("Value")
                    if key in kept and (value is None or kept[key] == value):
                        del kept[key]
            self.store.update(row.id, tags=kept)

    def tag_descriptions(self) -> list[ResourceRow]:
        """Every taggable resource that has tags."""
        return [row for kind in KINDS for row in self.all(kind) if row.tags]
