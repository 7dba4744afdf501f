"""AWS's per-group quota on filters that use regular expressions (metric + subscription)."""

from __future__ import annotations

from logsieve.errors import ServiceError
from logsieve.patterns import FilterPattern
from logsieve.storage import LogGroup

from .context import LogsContext
from .reads import compile_filter

MAX_REGEX_FILTERS = 5
_SCAN_LIMIT = 1000  # more than metric (100) and subscription filters a group can hold


def check_regex_quota(
    ctx: LogsContext, group: LogGroup, pattern: FilterPattern, kind: str, name: str
) -> None:
    """Refuse a ``kind`` ("metric" or "subscription") filter ``name`` that would be the sixth
    filter of ``group`` using a regex; replacing a filter does not count itself."""
    if not pattern.regex_count:
        return
    store = ctx.store
    others = [
        f.pattern
        for f in store.metric_filters(group.name, None, None, None, _SCAN_LIMIT)
        if (kind, f.name) != ("metric", name)
    ] + [
        f.pattern
        for f in store.subscription_filters(group.id)
        if (kind, f.name) != ("subscription", name)
    ]
    if sum(compile_filter(text).regex_count > 0 for text in others) >= MAX_REGEX_FILTERS:
        raise ServiceError(
            "LimitExceededException",
            f"A log group can have at most {MAX_REGEX_FILTERS} filters that use regular "
            "expressions.",
        )
