"""The strict token codec: what ``encode`` writes decodes back, and nothing else does."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from logsieve import tokens

SCHEMA = {"after": tokens.strs(1), "n": tokens.is_int}
states = st.fixed_dictionaries(
    {
        "after": st.lists(st.text(max_size=20), min_size=1, max_size=1),
        "n": st.integers(-(2**63), 2**63 - 1),
    }
)


@given(states)
def test_what_encode_writes_decodes_back(state: dict[str, Any]) -> None:
    assert tokens.decode(tokens.encode(state), SCHEMA) == state


@given(states, st.text(min_size=1, max_size=8), st.booleans())
def test_anything_around_a_token_is_refused(
    state: dict[str, Any], garbage: str, before: bool
) -> None:
    token = tokens.encode(state)
    assert tokens.decode(garbage + token if before else token + garbage, SCHEMA) is None


@given(states, st.data())
def test_an_edited_token_decodes_only_to_a_token_it_spells(
    state: dict[str, Any], data: st.DataObject
) -> None:
    """Any accepted token is the canonical spelling of what it decodes to."""
    token = tokens.encode(state)
    at = data.draw(st.integers(0, len(token) - 1))
    mutated = token[:at] + data.draw(st.characters()) + token[at + 1 :]
    decoded = tokens.decode(mutated, SCHEMA)
    assert decoded is None or tokens.encode(decoded) == mutated


def test_keys_must_be_exactly_the_schema() -> None:
    assert tokens.decode(tokens.encode({"after": ["a"]}), SCHEMA) is None  # missing
    extra = tokens.encode({"after": ["a"], "n": 1, "x": 1})
    assert tokens.decode(extra, SCHEMA) is None
    assert tokens.decode(extra, SCHEMA, {"x": tokens.is_int}) == {"after": ["a"], "n": 1, "x": 1}
    assert tokens.decode(tokens.encode({"after": ["a"], "n": True}), SCHEMA) is None
    assert tokens.decode(tokens.encode({"after": ["a"], "n": 1.0}), SCHEMA) is None
    assert tokens.decode(["not", "a", "string"], SCHEMA) is None
