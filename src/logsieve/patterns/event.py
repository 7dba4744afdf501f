"""One log event as the matchers see it: the raw message plus forms parsed at most once.

A dispatcher that runs several filters over one event wraps it in an ``Event`` so a JSON
message is decoded once and a space-delimited message split once, however many patterns look
at it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Field separators for space-delimited matching: ASCII whitespace, exactly the set str.split()
# uses, so the fast split path and the tokenizer below always agree (tabs and runs of spaces
# act as one separator, reading A11).
DELIMITERS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_FIELD = re.compile(rf'"([^"]*)"|\[([^\]]*)\]|[^{re.escape(DELIMITERS)}]+')
_JSON_WHITESPACE = " \t\n\r"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:  # beyond Python's int-from-text digit limit: keep it as a float
        return float(text)


def load_object(message: str) -> dict | None:
    """The message parsed as a JSON object, or None if it is anything else (rule J16)."""
    if not message.startswith("{") and not message.lstrip(_JSON_WHITESPACE).startswith("{"):
        return None
    try:
        doc = orjson.loads(message)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits and lone surrogates; the standard library
        # reads both. It is only reached for text that starts like an object.
        try:
            doc = json.loads(message, parse_constant=_reject_constant, parse_int=_parse_int)
        except (ValueError, RecursionError):
            return None
    return doc if type(doc) is dict else None


def is_plain(message: str) -> bool:
    """Whether ``str.split`` gives the message's fields: ASCII without quotes or brackets."""
    return message.isascii() and '"' not in message and "[" not in message


class Fields:
    """A message split into space-delimited fields (rule S1).

    A field that starts with ``"`` runs to the next ``"`` and one that starts with ``[`` to the
    next ``]``; the quotes and brackets are not part of its value. ``rest(i)`` gives the raw text
    from field ``i`` to the end: the greedy last field of a pattern without ``...`` (rule S9).
    """

    __slots__ = ("_starts", "message", "values")

    def __init__(self, message: str) -> None:
        self.message = message
        if message.isascii() and '"' not in message and "[" not in message:
            self.values: list[str] = message.split()
            self._starts: list[int] | None = None
        else:
            values = []
            starts = []
            for m in _FIELD.finditer(message):
                quoted, bracketed = m.group(1), m.group(2)
                if quoted is not None:
                    values.append(quoted)
                elif bracketed is not None:
                    values.append(bracketed)
                else:
                    values.append(m.group())
                starts.append(m.start())
            self.values = values
            self._starts = starts

    def rest(self, i: int) -> str:
        if self._starts is None:
            return self.message.split(None, i)[-1].rstrip()
        return self.message[self._starts[i] :].rstrip(DELIMITERS)


_UNPARSED: Any = object()


class Event:
    """A log message with its JSON form and field split computed lazily and cached.

    ``views`` holds what each compiled pattern derived from this event (a space-delimited
    pattern's alignment of the fields, a JSON pattern's verdict), keyed by the pattern's
    matcher: a pattern's match, metric value, dimensions and extracted fields, and every
    other filter or consumer with the same (cached) pattern, share one computation.
    """

    __slots__ = ("_doc", "_fields", "message", "views")

    def __init__(self, message: str) -> None:
        self.message = message
        self._doc: Any = _UNPARSED
        self._fields: Fields | None = None
        self.views: dict[object, Any] = {}

    @property
    def doc(self) -> dict | None:
        """The message as a JSON object, or None when it is not one."""
        if self._doc is _UNPARSED:
            self._doc = load_object(self.message)
        return self._doc

    @property
    def fields(self) -> Fields:
        if self._fields is None:
            self._fields = Fields(self.message)
        return self._fields


def as_event(message: str | Event) -> Event:
    return message if isinstance(message, Event) else Event(message)
