"""Lists of request elements, as either decoder hands them to an operation.

The generic decoder (orjson, then the model walk) gives each element of a list member as a
dict. The fast decoder (``api.fast_decode``) gives a ``CheckedList`` of msgspec structs that
were checked against every constraint of the element shape while decoding. Operations read a
member across the elements with ``column``, which works on both.
"""

from __future__ import annotations

from operator import attrgetter, itemgetter
from typing import Any

__all__ = ["CheckedList", "column"]


class CheckedList(list):  # type: ignore[type-arg]
    """Elements decoded as structs and already checked: validation takes them as they are."""


def column(items: list[Any], name: str) -> list[Any]:
    """The member ``name`` of every element, in order (one C-level pass)."""
    get = attrgetter(name) if type(items) is CheckedList else itemgetter(name)
    return list(map(get, items))
