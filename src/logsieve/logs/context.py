"""What every CloudWatch Logs operation needs: the store, identity, clock and lookups."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage import LogGroup, LogsStore, LogStream, SubscriptionFilter

GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Delivery(Protocol):
    """What the logs service tells the subscription side (which lives in a higher layer)."""

    def check_destination(self, item: SubscriptionFilter) -> None:
        """Raise a ``ServiceError`` if ``item``'s destination cannot receive deliveries.

        AWS resolves the destination and test-delivers to it inside PutSubscriptionFilter.
        """
        ...

    def subscriptions_changed(self) -> None:
        """Subscription filters or log groups were created or deleted."""
        ...

    def appended(self, group_id: int) -> None:
        """Events were committed to ``group_id`` (called from request threads)."""
        ...


@dataclass
class LogsContext:
    store: LogsStore
    region: str = "us-east-1"
    account_id: str = "123456789012"
    clock: Callable[[], int] = field(default=now_ms)
    max_subscription_filters: int = 2
    delivery: Delivery | None = None  # None: no subscription can be created
    # Told the log group of every committed batch (from request threads): live tail sessions.
    followers: list[Callable[[int], None]] = field(default_factory=list)

    def committed(self, group_id: int) -> None:
        """Events were committed to ``group_id``: wake its subscription pumps and live tails."""
        if self.delivery is not None:
            self.delivery.appended(group_id)
        for follower in self.followers:
            follower(group_id)

    def writer(self) -> Delivery:
        """What a writer outside this service (a source's sink) tells about its commits: a
        ``Delivery`` whose ``appended`` also wakes the live tail sessions."""
        return _Writer(self)

    # --- ARNs ----------------------------------------------------------------------------

    def group_arn(self, name: str) -> str:
        """The log group ARN without the trailing ``:*`` (tagging, identifiers)."""
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}"

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group)}:log-stream:{stream}"

    def group_name_from_arn(self, arn: str) -> str | None:
        prefix = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:"
        if not arn.startswith(prefix):
            return None
        name = arn[len(prefix) :]
        return name[:-2] if name.endswith(":*") else name

    # --- lookups ----------------------------------------------------------------------------

    def group_name(self, params: dict[str, Any], required: bool = True) -> str | None:
        """``logGroupName`` or ``logGroupIdentifier`` (a name or an ARN): exactly one."""
        name = params.get("logGroupName")
        identifier = params.get("logGroupIdentifier")
        if name is not None and identifier is not None:
            raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        if identifier is not None:
            if identifier.startswith("arn:"):
                name = self.group_name_from_arn(identifier)
                if name is None:
                    raise invalid(f"Invalid log group identifier: {identifier}")
            else:
                name = identifier
        if name is None and required:
            raise invalid("Either LogGroup name or LogGroup ARN must be present.")
        return name

    def group(self, params: dict[str, Any]) -> LogGroup:
        name = self.group_name(params)
        group = self.store.group(name)  # type: ignore[arg-type]
        if group is None:
            raise not_found(GROUP_NOT_FOUND)
        return group

    def stream(self, group: LogGroup, name: str) -> LogStream:
        stream = self.store.stream(group.id, name)
        if stream is None:
            raise not_found(STREAM_NOT_FOUND)
        return stream


class _Writer:
    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx

    def check_destination(self, item: SubscriptionFilter) -> None:
        if self.ctx.delivery is not None:
            self.ctx.delivery.check_destination(item)

    def subscriptions_changed(self) -> None:
        if self.ctx.delivery is not None:
            self.ctx.delivery.subscriptions_changed()

    def appended(self, group_id: int) -> None:
        self.ctx.committed(group_id)


# --- pagination tokens ------------------------------------------------------------------------


def resume_after(params: dict[str, Any], valid: Callable[[Any], bool]) -> Any:
    """The ``after`` key of a request's ``nextToken`` (None on a first page)."""
    token = params.get("nextToken")
    return decode_token(token, after=valid)["after"] if token else None


def resume_in_group(params: dict[str, Any], group_id: int, valid: Callable[[Any], bool]) -> Any:
    """The ``after`` key of a ``nextToken`` that ``group_token`` wrote for this log group
    (None on a first page). A token of another group (ids are never reused, so a deleted one
    too) is refused: it is a position among that group's items, meaningless here."""
    token = params.get("nextToken")
    if not token:
        return None
    state = decode_token(token, g=tokens.is_int, after=valid)
    if state["g"] != group_id:
        raise invalid("The specified nextToken is invalid.")
    return state["after"]


def group_token(group_id: int, after: Any) -> str:
    """A ``nextToken`` resuming after ``after`` in this log group only."""
    return tokens.encode({"g": group_id, "after": after})


def decode_token(
    token: str,
    optional: dict[str, Callable[[Any], bool]] | None = None,
    **schema: Callable[[Any], bool],
) -> dict[str, Any]:
    """Decode a ``nextToken`` with exactly the keys of ``schema`` (and maybe ``optional``'s),
    each passing its check; anything else is AWS's InvalidParameterException.

    Tokens come back from clients, so a forged or corrupted one must be refused with AWS's
    message, never reach the store with a value of the wrong type (see ``logsieve.tokens``).
    """
    state = tokens.decode(token, schema, optional)
    if state is None:
        raise invalid("The specified nextToken is invalid.")
    return state
