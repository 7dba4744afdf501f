"""Property-based tests for ``logsieve.patterns`` (spec: filter-patterns.md, sections 3-9, 13-15).

The references below are deliberately naive, written from the spec rather than from the
implementation: term patterns (T1-T12), space-delimited alignment and conditions (S1-S15 with the
readings of A2/A11), and JSON comparisons with the typing rules of J4/J9-J12/J18 and A3.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logsieve.patterns import Event, PatternError, compile

# The default budget keeps the whole file near 20 s; LOGSIEVE_PROPERTY_SCALE=20 searches harder.
SCALE = float(os.environ.get("LOGSIEVE_PROPERTY_SCALE", "1"))


def examples(n: int, **kwargs: Any) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, **kwargs)


def _compiles(text: str) -> bool:
    try:
        compile(text)
    except PatternError:
        return False
    return True


# --- characters and raw text ---------------------------------------------------------------

SPECIAL_CHARS = [
    "\ud800",
    "\udfff",
    "\x00",
    "\x1c",
    "\x0b",
    "\x85",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\ufeff",
    "\t",
    "\n",
    "\r",
    '"',
    "\\",
    "[",
    "]",
    "{",
    "}",
    "%",
    "$",
    "é",
    "💥",
]
any_char = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),  # lone surrogates
    st.sampled_from(SPECIAL_CHARS),
)
any_text = st.text(any_char, max_size=40)


# --- pattern strategies ----------------------------------------------------------------------

FRAGMENTS = [
    "{",
    "}",
    "[",
    "]",
    "$.a",
    "$.b[0]",
    "$.",
    "$",
    "[*]",
    ".*",
    "$.['a.b']",
    "'",
    "=",
    "!=",
    ">=",
    "<=",
    "<",
    ">",
    "!",
    "&&",
    "||",
    "&",
    "|",
    "(",
    ")",
    '"x"',
    '"',
    "\\",
    "%a+%",
    "%",
    "%(a)%",
    "IS NULL",
    "IS",
    "NOT EXISTS",
    "EXISTS",
    "IS NOT NULL",
    "TRUE",
    "...",
    ",",
    "?",
    "-",
    "*",
    "x*",
    "0",
    "1",
    "-5",
    "2.5",
    "1e3",
    "18446744073709551616",
    "f",
    "ERROR",
    " ",
    "  ",
    "\t",
    "é",
    "\ud800",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)
# Deeply nested parentheses, still under the 1024-character limit. (Hypothesis raises the
# recursion limit while it runs a test, so test_deep_nesting_raises_only_pattern_error below
# checks the same shapes under the interpreter's default limit.)
nested_groups = st.tuples(
    st.sampled_from([("{", "$.a=1", "}"), ("[", "f=1", ", g]"), ("{", "", "")]),
    st.integers(0, 500),
).map(lambda t: t[0][0] + "(" * t[1] + t[0][1] + ")" * (t[1] if t[0][1] else 0) + t[0][2])
near_valid = st.one_of(
    fragment_text,
    nested_groups,
    st.tuples(st.sampled_from(["{", "[", "{ ", "[ ", " {", "%"]), fragment_text).map("".join),
    st.tuples(fragment_text, any_text, fragment_text).map("".join),
)

# Terms (T rules): a small alphabet so that hits are frequent.
BARE_ALPHABET = "abA1"
PHRASE_ALPHABET = 'ab "\\'
MESSAGE_ALPHABET = 'abA1 "\\\t'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def term_specs(draw: st.DrawFn) -> tuple[str, str, bool]:
    """One term as (mode, text, quoted); mode is '', '?' or '-'."""
    mode = draw(st.sampled_from(["", "", "?", "-"]))
    if draw(st.integers(0, 3)) == 0:
        text = draw(st.text(PHRASE_ALPHABET, max_size=4))
        if not text.strip():
            # Blank quoted terms: only the documented `" "` (T8) and `""` (A15).
            text = draw(st.sampled_from(["", " "]))
        return mode, text, True
    return mode, draw(st.text(BARE_ALPHABET, min_size=1, max_size=3)), False


@st.composite
def term_patterns(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, bool]]]:
    terms = draw(st.lists(term_specs(), min_size=1, max_size=5))
    seps = draw(
        st.lists(
            st.sampled_from([" ", "  ", "\t", " \t"]),
            min_size=len(terms) - 1,
            max_size=len(terms) - 1,
        )
    )
    parts = [mode + (_quote(text) if quoted else text) for mode, text, quoted in terms]
    text = parts[0] + "".join(sep + part for sep, part in zip(seps, parts[1:], strict=True))
    lead = draw(st.sampled_from(["", "", " "]))
    trail = draw(st.sampled_from(["", "", " ", "\t"]))
    return lead + text + trail, terms


# Regexes (R rules), standalone or as values.
REGEX_BITS = ["a", "b", "1", "^", "$", ".", "*", "+", "?", "[a-c]", "[^b]", "\\d", "\\w", "\\s"]
REGEX_BITS += ["{1,2}", "{,2}", "|", "\\x3A", "\\.", " ", ":", "-", "_"]
regex_bodies = st.lists(st.sampled_from(REGEX_BITS), min_size=1, max_size=6).map("".join)
regex_patterns = regex_bodies.map(lambda body: f"%{body}%")

# JSON patterns (J rules) as small syntax trees, rendered to text and evaluated by a reference.
DOC_KEYS = ["a", "b", "c", "a.b", "x-y", "é"]
SELECTOR_KEYS = [*DOC_KEYS, "z"]
NUMBER_TEXTS = ["0", "1", "-1", "2.5", "1e1", "+3", "10", "1.0", "-0", "18446744073709551616"]
STRING_VALUES = ["x", "y", "1", "", "a b", "xy", "é", 'q"', "a\\b", "a.b", "/", "x*y"]
BARE_STRINGS = ["x", "y", "xy", "a.b", "é"]
AMBIGUOUS_BARE = ["true", "null", "false"]  # A3: no coercion to JSON literals
WILDCARD_VALUES = ["x*", "*y", "*", "*x*", '"*"', '"x*"', "1*", "*0", "a*", '"*é"', "*x**"]
WILDCARD_VALUES += ["**", "***", '"***"', "x**", "**y"]
REGEX_VALUES = ["%^x%", "%1%", "%y$%", "%[0-9]%", "%\\.%"]


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else float(text)


@st.composite
def json_selectors(draw: st.DrawFn, allow_wildcard: bool = True) -> tuple:
    steps: list[tuple] = [("key", draw(st.sampled_from(SELECTOR_KEYS)))]
    wildcards = 0
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["key", "idx", "anyel", "anymem"]))
        if kind in ("anyel", "anymem"):
            if wildcards or not allow_wildcard:
                kind = "idx"
            else:
                wildcards += 1
        if kind == "key":
            steps.append(("key", draw(st.sampled_from(SELECTOR_KEYS))))
        elif kind == "idx":
            steps.append(("idx", draw(st.integers(0, 2))))
        else:
            steps.append((kind,))
    if allow_wildcard and not wildcards and draw(st.integers(0, 5)) == 0:
        steps.insert(0, ("anymem",))
    return tuple(steps)


def render_selector(steps: tuple) -> str:
    out = "$"
    for step in steps:
        if step[0] == "key":
            name = step[1]
            out += f".{name}" if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f".['{name}']"
        elif step[0] == "idx":
            out += f"[{step[1]}]"
        elif step[0] == "anyel":
            out += "[*]"
        else:
            out += ".*"
    return out


@st.composite
def json_values(draw: st.DrawFn, op: str, reference: bool) -> tuple:
    """A comparison value as (kind, rendered text, literal).

    With ``reference``, only values whose meaning the spec settles (no bare true/null/false).
    """
    if op in ("<", ">", "<=", ">="):
        text = draw(st.sampled_from(NUMBER_TEXTS))
        return ("num", text, _number(text))
    choices = ["num", "str", "bare", "wild", "regex"]
    if not reference:
        choices += ["ambiguous"]
    kind = draw(st.sampled_from(choices))
    if kind == "num":
        text = draw(st.sampled_from(NUMBER_TEXTS))
        return ("num", text, _number(text))
    if kind == "str":
        value = draw(st.sampled_from(STRING_VALUES))
        return ("str", _quote(value), value)
    if kind == "bare":
        value = draw(st.sampled_from(BARE_STRINGS))
        return ("str", value, value)
    if kind == "ambiguous":
        value = draw(st.sampled_from(AMBIGUOUS_BARE))
        return ("other", value, None)
    if kind == "wild":
        text = draw(st.sampled_from(WILDCARD_VALUES))
        return ("wild", text, text.strip('"'))
    text = draw(st.sampled_from(REGEX_VALUES))
    return ("regex", text, text[1:-1])


@st.composite
def json_leaves(draw: st.DrawFn, reference: bool) -> tuple:
    selector = draw(json_selectors())
    kind = draw(st.sampled_from(["cmp", "cmp", "cmp", "check"]))
    if kind == "check":
        return ("check", selector, draw(st.sampled_from(["NULL", "TRUE", "FALSE", "NOT EXISTS"])))
    op = draw(st.sampled_from(["=", "=", "!=", "<", ">", "<=", ">="]))
    return ("cmp", selector, op, draw(json_values(op, reference)))


def json_exprs(reference: bool) -> st.SearchStrategy[tuple]:
    return st.recursive(
        json_leaves(reference),
        lambda inner: st.tuples(
            st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)
        ),
        max_leaves=4,
    )


def _ws(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", " ", " ", "  ", "\t"]))


def render_json_expr(draw: st.DrawFn, expr: tuple) -> str:
    if expr[0] in ("and", "or"):
        joiner = "&&" if expr[0] == "and" else "||"
        parts = []
        for item in expr[1]:
            text = render_json_expr(draw, item)
            # An OR inside an AND needs parentheses; any other group may have them anyway.
            if (item[0] == "or" and expr[0] == "and") or (
                item[0] in ("and", "or") and draw(st.booleans())
            ):
                text = f"({_ws(draw)}{text}{_ws(draw)})"
            parts.append(text)
        return "".join(
            (f"{_ws(draw)}{joiner}{_ws(draw)}" if i else "") + p for i, p in enumerate(parts)
        )
    selector = render_selector(expr[1])
    if expr[0] == "check":
        test = expr[2]
        return f"{selector} {test}" if test == "NOT EXISTS" else f"{selector} IS {test}"
    _, _, op, value = expr
    return f"{selector}{_ws(draw)}{op}{_ws(draw)}{value[1]}"


def _count(expr: tuple, pred) -> int:
    if expr[0] in ("and", "or"):
        return sum(_count(item, pred) for item in expr[1])
    return int(pred(expr))


def _within_quotas(expr: tuple) -> bool:
    wildcards = _count(expr, lambda e: any(s[0] in ("anyel", "anymem") for s in e[1]))
    regexes = _count(expr, lambda e: e[0] == "cmp" and e[3][1].startswith("%"))
    return wildcards <= 3 and regexes <= 2


@st.composite
def json_patterns(draw: st.DrawFn, reference: bool = False) -> tuple[str, tuple]:
    expr = draw(json_exprs(reference).filter(_within_quotas))
    text = "{" + _ws(draw) + render_json_expr(draw, expr) + _ws(draw) + "}"
    return draw(st.sampled_from(["", " ", "\n"])) + text + draw(st.sampled_from(["", " "])), expr


# Space-delimited patterns (S rules) as position lists.
FIELD_NAMES = ["a", "b", "f", "g_1", "h-2", "Code"]
SPACE_STRING_VALUES = ["x*", "*b", "*", "*a*", "a", "ab", "xb", "-", '"a b"', '"*a*"', '"1"']
SPACE_STRING_VALUES += ["1*", "*é", '"é"', '"c d"', '""', "**", "***", '"***"', "*x**", "x*y"]
SPACE_NUMBER_VALUES = ["1", "2", "3", "10", "2.5", "1e1", "-1", "+3"]
SPACE_REGEX_VALUES = ["^a", "b$", "1", "[0-9]", "^x.$", "\\d{2}"]


@st.composite
def space_conditions(draw: st.DrawFn, name: str, depth: int = 0) -> tuple:
    if depth < 2 and draw(st.integers(0, 4)) == 0:
        kind = draw(st.sampled_from(["and", "or"]))
        items = draw(st.lists(space_conditions(name, depth + 1), min_size=2, max_size=3))
        return (kind, items)
    op = draw(st.sampled_from(["=", "=", "!=", "<", ">", "<=", ">="]))
    if op in ("<", ">", "<=", ">="):
        text = draw(st.sampled_from(SPACE_NUMBER_VALUES))
        return ("cmp", name, op, ("num", text, _number(text)))
    kind = draw(st.sampled_from(["str", "str", "num", "regex"]))
    if kind == "num":
        text = draw(st.sampled_from(SPACE_NUMBER_VALUES))
        return ("cmp", name, op, ("num", text, _number(text)))
    if kind == "regex":
        body = draw(st.sampled_from(SPACE_REGEX_VALUES))
        return ("cmp", name, op, ("regex", f"%{body}%", body))
    text = draw(st.sampled_from(SPACE_STRING_VALUES))
    literal = text[1:-1] if text.startswith('"') else text
    return ("cmp", name, op, ("str", text, literal))


def render_space_condition(draw: st.DrawFn, cond: tuple) -> str:
    if cond[0] in ("and", "or"):
        joiner = " && " if cond[0] == "and" else " || "
        parts = []
        for item in cond[1]:
            text = render_space_condition(draw, item)
            if item[0] in ("and", "or") and (
                (item[0] == "or" and cond[0] == "and") or draw(st.booleans())
            ):
                text = f"({text})"
            parts.append(text)
        return joiner.join(parts)
    _, name, op, value = cond
    return f"{name}{_ws(draw)}{op}{_ws(draw)}{value[1]}"


@st.composite
def space_patterns(draw: st.DrawFn, max_ellipses: int = 2) -> tuple[str, list[tuple]]:
    positions: list[tuple] = []
    ellipses = 0
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["name", "name", "cond", "cond", "ellipsis", "empty"]))
        if kind == "ellipsis" and ellipses >= max_ellipses:
            kind = "name"
        if kind == "ellipsis":
            ellipses += 1
            positions.append(("ellipsis",))
        elif kind == "empty":
            positions.append(("empty",))
        elif kind == "name":
            positions.append(("name", draw(st.sampled_from(FIELD_NAMES))))
        else:
            name = draw(st.sampled_from(FIELD_NAMES))
            positions.append(("cond", name, draw(space_conditions(name))))
    rendered = []
    for position in positions:
        if position[0] == "ellipsis":
            rendered.append("...")
        elif position[0] == "empty":
            rendered.append("")
        elif position[0] == "name":
            rendered.append(position[1])
        else:
            rendered.append(render_space_condition(draw, position[2]))
    if len(positions) == 1 and positions[0][0] == "empty":
        positions = []  # `[]` and `[ ]` have no positions at all (S12)
    sep = draw(st.sampled_from([", ", ",", " , "]))
    text = "[" + sep.join(rendered) + "]"
    regexes = text.count("%") // 2
    if regexes > 2:
        return draw(space_patterns(max_ellipses))
    return text, positions


any_patterns = st.one_of(
    json_patterns().map(lambda p: p[0]),
    space_patterns().map(lambda p: p[0]),
    term_patterns().map(lambda p: p[0]),
    regex_patterns.map(lambda t: t if _compiles(t) else "%x%"),
    near_valid.map(lambda t: t if _compiles(t) else "ERROR"),
    st.sampled_from(["", " ", '" "', '""', "[]", "[...]", "%.%", "{ $.a NOT EXISTS }"]),
)


# --- message strategies ------------------------------------------------------------------

WORDS = ["a", "b", "x", "xb", "ab", "1", "2", "3", "10", "2.5", "-", "1e1", "+3", "é", "aé", "x1"]
WORDS += ["*", "x*y", "x*"]


@st.composite
def space_messages(draw: st.DrawFn, plain: bool = False) -> tuple[str, list[str], list[int]]:
    """A message, its field values and the offset where each field starts.

    ``plain`` keeps to what the spec settles (S1, A11): spaces and tabs between fields, no
    leading or trailing whitespace, no exotic separators.
    """
    fields = []
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(["word", "word", "word", "text", "quoted", "bracketed"]))
        if kind == "word":
            value = draw(st.sampled_from(WORDS))
            raw = value
        elif kind == "text":
            value = draw(st.text("ab1é-", min_size=1, max_size=3))
            raw = value
        elif kind == "quoted":
            value = draw(st.text("ab1 [é", max_size=4))
            raw = f'"{value}"'
        else:
            value = draw(st.text('cd1 "é[', max_size=4))
            raw = f"[{value}]"
        fields.append((value, raw))
    seps = [" ", " ", "  ", "\t", " \t "]
    if not plain:
        seps += ["\x0b", "\x1c", "\r\n", "\n"]
    message = "" if plain else draw(st.sampled_from(["", "", " ", "\t"]))
    values, starts = [], []
    for i, (value, raw) in enumerate(fields):
        if i:
            message += draw(st.sampled_from(seps))
        starts.append(len(message))
        values.append(value)
        message += raw
    if not plain:
        message += draw(st.sampled_from(["", "", " ", "\t", "\n"]))
    return message, values, starts


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, 10.0, -1.0, 0.1, 1e300, 1e16, 3e-7]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["x", "y", "1", "10", "", "a b", "xy", "é", 'q"', "a\\b", "a.b", "/"]),
    st.sampled_from(["true", "null", "x*", "x*y", "*", "\u2028", "\n", "💥", "2.5", "y\n"]),
    st.text('xy1 é"\\/\n.*', max_size=4),
)
json_docs = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(DOC_KEYS), inner, max_size=4),
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(st.sampled_from(DOC_KEYS), json_docs, max_size=5)


def serializations(doc: Any) -> list[str]:
    texts = [
        json.dumps(doc),
        json.dumps(doc, ensure_ascii=False),
        json.dumps(doc, indent=1, separators=(",", " : ")),
    ]
    with contextlib.suppress(orjson.JSONEncodeError):  # integers beyond 64 bits
        texts.append(orjson.dumps(doc).decode())
    return texts


messages = st.one_of(
    any_text,
    st.text(MESSAGE_ALPHABET + "[]{}é", max_size=30),
    space_messages().map(lambda m: m[0]),
    json_docs.map(json.dumps),
    json_objects.map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.tuples(json_objects.map(json.dumps), st.integers(0, 40), any_char).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    ),
)


# --- 1. compile only ever raises PatternError ------------------------------------------------


def _check_compile(text: str) -> None:
    try:
        pattern = compile(text)
    except PatternError as e:
        assert isinstance(e.message, str) and e.message
        assert str(e) == e.message
        assert type(e.position) is int
        assert 0 <= e.position <= len(text), (e.position, len(text))
    else:
        assert pattern.kind in ("text", "json", "space", "regex")
        assert str(pattern) == text


@examples(300)
@given(st.one_of(st.text(), any_text))
@example("\ud800")
@example("{" * 600)
@example("a" * 1025)
@example("{ $.a = 1 }" + " " * 1100)
def test_compile_arbitrary_text_raises_only_pattern_error(text: str) -> None:
    _check_compile(text)


@examples(300)
@given(near_valid)
@example("{ $.*[*] = 1 }")
@example("[a, b")
@example('"unterminated')
@example("%(ab)+%")
@example('{ $.a = "x\\')
@example("{ $.a = %x% || $.b = %y% || $.c = %z% }")
def test_compile_near_valid_raises_only_pattern_error(text: str) -> None:
    _check_compile(text)


@pytest.mark.parametrize("depth", [100, 300, 340, 400, 500])
@pytest.mark.parametrize(
    "shape",
    [("{", "$.a = 1", "}"), ("[", "f = 1", ", g]"), ("{", "", "")],
    ids=["json", "space", "unclosed-json"],
)
def test_deep_nesting_raises_only_pattern_error(shape: tuple[str, str, str], depth: int) -> None:
    opening, core, closing = shape
    text = opening + "(" * depth + core + (")" * depth if core else "") + closing
    assert len(text) <= 1024
    compile.cache_clear()  # a Hypothesis run (raised recursion limit) may have cached it
    _check_compile(text)


# --- 2. compiled patterns never raise on any message -------------------------------------


def _exercise(text: str, message: str) -> bool:
    """Call every matching entry point; assert they agree and return the verdict."""
    pattern = compile(text)
    matched = pattern.matches(message)
    assert type(matched) is bool
    event = Event(message)
    assert pattern.match_event(event) is matched
    assert pattern.match_event(event) is matched  # cached forms give the same answer
    extracted = pattern.extract(message)
    assert (extracted is not None) is matched
    assert pattern.extract(event) == extracted
    fields = pattern.extracted_fields(message)
    if pattern.kind == "space":
        assert (fields is not None) is matched
        assert pattern.extracted_fields(event) == fields
    else:
        assert fields is None
        assert extracted in (None, {})
    return matched


def _deep(opening: str, closing: str, depth: int, core: str = "1") -> str:
    return opening * depth + core + closing * depth


EDGE_MESSAGES = {
    "empty": "",
    "blank": " ",
    "lone-surrogate": "\ud800",
    "surrogates-in-fields": "a\ud800b \udfff",
    "json-raw-surrogate": '{"a": "\ud800"}',
    "json-escaped-surrogate": '{"a": "\\ud800"}',
    "json-surrogate-key": '{"\ud800": 1}',
    "controls": "\x00\x01\x1c\x1d\x1e\x1f\x7f\x85\u2028",
    "brace": "{",
    "truncated-json": '{"a":',
    "json-trailing-text": '{"a": 1} trailing',
    "json-nan": '{"a": NaN}',
    "json-infinity": '{"a": Infinity, "b": -Infinity}',
    "json-overflowing-floats": '{"a": 1e400, "b": -1e400}',
    "json-beyond-64-bits": '{"a": 18446744073709551616, "b": -18446744073709551617}',
    "json-200-digits": '{"a": 1' + "0" * 200 + "}",
    "json-5000-digits": '{"a": 1' + "0" * 5000 + "}",
    "5000-digits": "1" * 5000,
    "5000-digit-fields": "1" * 5000 + " " + "2" * 5000 + " 3",
    "4400-digit-middle-field": "a " + "9" * 4400 + " b",
    "negative-5000-digits": "-" + "1" * 5000 + " x",
    "long-numbers": "1" * 5000 + ".5 1e99999 -1e99999",
    "5000-nested-objects": _deep('{"a":', "}", 5000),
    "900-nested-objects": _deep('{"a":', "}", 900),
    "5000-nested-arrays": _deep("[", "]", 5000),
    "object-with-5000-nested-arrays": '{"a":' + _deep("[", "]", 5000) + "}",
    "5000-unclosed-objects": '{"a":' * 5000,
    "5000-unclosed-arrays": "[" * 5000,
    "quotes": '"' * 1001,
    "quotes-and-brackets": '" [ ] " [ [ ] ] "',
    "mixed-quotes-brackets": '[ERROR] "quoted [bracket" [x "y] "',
    "json-quotes-brackets": '{"a": "[\\"]", "b": ["]"]}',
}

BIG = 300_000
HUGE_MESSAGES = {
    "one-word": "x" * BIG,
    "long-words": ("w" * 999 + " ") * (BIG // 1000),
    "long-words-tabs": ("w" * 999 + "\t") * (BIG // 1000),
    "long-non-ascii-words": ("é" * 999 + " ") * (BIG // 1000),
    "long-quoted": '"' + ("a" * 999 + " ") * (BIG // 1000) + '"',
    "long-unclosed-bracket": "[" + ("a" * 999 + " ") * (BIG // 1000),
    "many-fields": "a b\t" * (BIG // 4),
    "json-long-string": '{"a": "' + "x" * BIG + '"}',
    "json-long-array": json.dumps({"a": ["é" * 100] * (BIG // 700)}),
}


@pytest.mark.parametrize("message", list(EDGE_MESSAGES.values()), ids=list(EDGE_MESSAGES))
@examples(40)
@given(text=any_patterns)
@example(text="[f = 1, ...]")
@example(text="[a, f != 1, b]")
@example(text="[..., f > 1]")
@example(text="{ $.a > 1 }")
def test_edge_messages_never_raise(text: str, message: str) -> None:
    _exercise(text, message)


@pytest.mark.parametrize("message", list(HUGE_MESSAGES.values()), ids=list(HUGE_MESSAGES))
@examples(8)
@given(text=any_patterns)
def test_huge_messages_never_raise(text: str, message: str) -> None:
    _exercise(text, message)


@examples(300)
@given(any_patterns, messages)
def test_random_messages_never_raise(text: str, message: str) -> None:
    _exercise(text, message)


def test_json_object_with_huge_integer_is_still_json() -> None:
    """J16/J12: a valid JSON object is JSON however long its numbers are."""
    doc = EDGE_MESSAGES["json-5000-digits"]
    assert compile("{ $.b NOT EXISTS }").matches(doc)
    assert compile("{ $.a > 1 }").matches(doc)


# --- 3. term patterns against the naive definition (T1-T12) -----------------------------


def reference_terms(terms: list[tuple[str, str, bool]], message: str) -> bool:
    def present(text: str) -> bool:
        return text == " " or text in message  # T8: `" "` is always present

    if all(mode == "?" for mode, _, _ in terms):
        return any(present(text) for _, text, _ in terms)  # T5
    required = [text for mode, text, _ in terms if mode == ""]  # T6: `?` terms ignored
    excluded = [text for mode, text, _ in terms if mode == "-"]
    return all(map(present, required)) and not any(map(present, excluded))  # T1, T2, T7, T11


@examples(400)
@given(term_patterns(), st.text(MESSAGE_ALPHABET, max_size=14))
@example(('" "', [("", " ", True)]), "NoSpaces")
@example(("?a -b", [("?", "a", False), ("-", "b", False)]), "b")
@example(('"say \\"hi\\""', [("", 'say "hi"', True)]), 'x say "hi" y')
def test_term_patterns_follow_the_naive_definition(
    pattern: tuple[str, list[tuple[str, str, bool]]], message: str
) -> None:
    text, terms = pattern
    compiled = compile(text)
    assert compiled.kind == "text"
    assert str(compiled) == text
    expected = reference_terms(terms, message)
    assert compiled.matches(message) is expected
    assert compiled.match_event(Event(message)) is expected
    assert compiled.extract(message) == ({} if expected else None)
    assert compiled.extracted_fields(message) is None


# --- 4a. space-delimited patterns: consistency and reference ------------------------------

_NUMBER_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _ref_number(text: str) -> int | float | None:
    return _number(text) if _NUMBER_RE.fullmatch(text) else None


def _ref_string_match(literal: str, value: str) -> bool:
    """S3/J3: `*` is a wildcard at the start and/or the end of the literal only."""
    if literal == "*":
        return True
    head = literal.startswith("*")
    tail = literal.endswith("*")
    core = literal[1 if head else 0 : -1 if tail else None]
    if head and tail:
        return core in value
    if head:
        return value.endswith(core)
    if tail:
        return value.startswith(core)
    return value == literal


def reference_space_condition(cond: tuple, value: str) -> bool:
    if cond[0] == "and":
        return all(reference_space_condition(c, value) for c in cond[1])
    if cond[0] == "or":
        return any(reference_space_condition(c, value) for c in cond[1])
    _, _, op, (kind, _, literal) = cond
    if kind == "regex":
        equal = re.search(literal, value) is not None  # S10: searched inside the field
    elif kind == "str":
        equal = _ref_string_match(literal, value)
    else:
        number = _ref_number(value)
        if op in ("<", ">", "<=", ">="):  # S4, S15
            if number is None:
                return False
            return {
                "<": number < literal,
                ">": number > literal,
                "<=": number <= literal,
                ">=": number >= literal,
            }[op]
        equal = number is not None and number == literal  # S3: numerically
    return equal if op == "=" else not equal  # S5: != excludes the values = accepts


def reference_space(
    positions: list[tuple], message: str, values: list[str], starts: list[int]
) -> dict[str, str] | None:
    """S1-S13 for patterns with at most one `...`; the extracted values (section 8) or None."""
    count = len(values)
    if not positions or positions == [("ellipsis",)]:  # S12
        taken = [(None, v) for v in values]
    elif ("ellipsis",) not in positions:
        n = len(positions)
        if count < n:  # S8
            return None
        taken = [(positions[i], values[i]) for i in range(n)]
        if count > n:  # S9: the last position takes the raw rest of the line
            taken[-1] = (positions[-1], message[starts[n - 1] :])
    else:
        k = positions.index(("ellipsis",))
        head, tail = positions[:k], positions[k + 1 :]
        if count < len(head) + len(tail):  # S7, S8
            return None
        slots: list[tuple | None] = [None] * count
        slots[: len(head)] = head
        slots[count - len(tail) :] = tail
        taken = list(zip(slots, values, strict=True))
    extracted = {}
    for i, (position, value) in enumerate(taken):
        failed = position is not None and position[0] == "cond"
        if failed and not reference_space_condition(position[2], value):
            return None
        named = position is not None and position[0] in ("name", "cond")
        extracted[f"${position[1]}" if named else f"${i + 1}"] = value
    return extracted


@examples(300)
@given(space_patterns(), space_messages())
@example(("[a, b]", [("name", "a"), ("name", "b")]), ("x\ty", ["x", "y"], [0, 2]))
def test_space_patterns_are_consistent(
    pattern: tuple[str, list[tuple]], message: tuple[str, list[str], list[int]]
) -> None:
    text, _ = pattern
    compiled = compile(text)
    assert compiled.kind == "space"
    assert str(compiled) == text
    _exercise(text, message[0])


@examples(400)
@given(space_patterns(max_ellipses=1), space_messages(plain=True))
@example(
    (
        "[w1=ERROR, w2]",
        [("cond", "w1", ("cmp", "w1", "=", ("str", "ERROR", "ERROR"))), ("name", "w2")],
    ),
    ("ERROR a  b", ["ERROR", "a", "b"], [0, 6, 9]),
)
@example(
    ("[f = ***, g]", [("cond", "f", ("cmp", "f", "=", ("str", "***", "***"))), ("name", "g")]),
    ("x *", ["x", "*"], [0, 2]),
)
def test_space_patterns_follow_the_reference(
    pattern: tuple[str, list[tuple]], message: tuple[str, list[str], list[int]]
) -> None:
    text, positions = pattern
    line, values, starts = message
    compiled = compile(text)
    expected = reference_space(positions, line, values, starts)
    assert compiled.extract(line) == expected, (text, line)
    assert compiled.matches(line) is (expected is not None)
    assert compiled.match_event(Event(line)) is (expected is not None)
    named = None
    if expected is not None:
        names = {p[1] for p in positions if p[0] in ("name", "cond")}
        named = {k[1:]: v for k, v in expected.items() if k[1:] in names}
    assert compiled.extracted_fields(line) == named


# --- 4b/5. JSON patterns: consistency, reference, serialization independence -----------------


def _ref_select(doc: Any, steps: tuple) -> list[Any]:
    """Every value the selector selects (J7-J9); an empty list when it selects nothing."""
    selected = [doc]
    for step in steps:
        nxt: list[Any] = []
        for value in selected:
            if step[0] == "key" and isinstance(value, dict):
                if step[1] in value:
                    nxt.append(value[step[1]])
            elif step[0] == "idx" and isinstance(value, list):
                if step[1] < len(value):
                    nxt.append(value[step[1]])
            elif step[0] == "anyel" and isinstance(value, list):
                nxt.extend(value)
            elif step[0] == "anymem" and isinstance(value, dict):
                nxt.extend(value.values())
        selected = nxt
    return selected


def _is_num(value: Any) -> bool:
    return type(value) in (int, float)  # JSON true/false are not numbers


def _kleene_any(results: Any) -> bool | None:
    """OR in three-valued logic: None stands for "the spec does not settle this"."""
    seen_unknown = False
    for result in results:
        if result is True:
            return True
        seen_unknown = seen_unknown or result is None
    return None if seen_unknown else False


def _kleene_all(results: Any) -> bool | None:
    seen_unknown = False
    for result in results:
        if result is False:
            return False
        seen_unknown = seen_unknown or result is None
    return None if seen_unknown else True


def _ref_equals(kind: str, literal: Any, v: Any) -> bool | None:
    """``selector = value`` for one selected value; None where the spec is silent."""
    if kind == "num":
        return _is_num(v) and v == literal  # J5, A3: "2" does not equal 2
    if kind == "str":
        return type(v) is str and v == literal  # J1, J21; A3: "1" does not equal 1
    if kind == "wild":  # J3; A3: a wildcard also applies to a number's text (4* matches 404)
        if type(v) is str:
            return _ref_string_match(literal, v)
        if type(v) is int:
            return _ref_string_match(literal, str(v))
        return None if type(v) is float else False  # how a float is spelled: unsettled
    if type(v) is str:  # J17: the regex is searched in the string value
        return re.search(literal, v) is not None
    return None if _is_num(v) else False  # A16: regex against a number is unsettled


def _ref_value_test(op: str, kind: str, literal: Any, v: Any) -> bool | None:
    if op == "=":
        return _ref_equals(kind, literal, v)
    if op == "!=":  # J4: exists, is a string or number, and does not equal; J10
        if not (_is_num(v) or type(v) is str):
            return False
        equal = _ref_equals(kind, literal, v)
        return None if equal is None else not equal
    if not _is_num(v):  # A3: "5000" is not > 1000
        return False
    return {"<": v < literal, ">": v > literal, "<=": v <= literal, ">=": v >= literal}[op]


def reference_json(expr: tuple, doc: Any) -> bool | None:
    if expr[0] == "and":
        return _kleene_all(reference_json(item, doc) for item in expr[1])
    if expr[0] == "or":
        return _kleene_any(reference_json(item, doc) for item in expr[1])
    selected = _ref_select(doc, expr[1])
    if expr[0] == "check":
        if expr[2] == "NOT EXISTS":
            return not selected  # J12
        wanted = {"NULL": None, "TRUE": True, "FALSE": False}[expr[2]]
        return any(v is wanted for v in selected)  # J11
    _, _, op, (kind, _, literal) = expr
    return _kleene_any(_ref_value_test(op, kind, literal, v) for v in selected)  # J9, J18


@examples(200)
@given(json_patterns(reference=True), st.one_of(json_objects, json_docs))
@example(("{ $.users != 1 }", ("cmp", (("key", "users"),), "!=", ("num", "1", 1))), {"users": [1]})
@example(("{ $.a != 1 }", ("cmp", (("key", "a"),), "!=", ("num", "1", 1))), {"b": 1})
@example(("{ $.a > 1 }", ("cmp", (("key", "a"),), ">", ("num", "1", 1))), {"a": "5000"})
@example(("{ $.a = 2 }", ("cmp", (("key", "a"),), "=", ("num", "2", 2))), {"a": 2**64 + 2})
@example(("{ $.a = *** }", ("cmp", (("key", "a"),), "=", ("wild", "***", "***"))), {"a": "x"})
@example(
    ("{ $.a = *** }", ("cmp", (("key", "a"),), "=", ("wild", "***", "***"))),
    {"a": "x", "b": "*"},
)
def test_json_patterns_follow_the_reference(pattern: tuple[str, tuple], doc: Any) -> None:
    text, expr = pattern
    compiled = compile(text)
    assert compiled.kind == "json"
    assert str(compiled) == text
    expected = isinstance(doc, dict) and reference_json(expr, doc)  # J16
    for message in serializations(doc):
        matched = _exercise(text, message)
        if expected is not None:
            assert matched is expected, message


@examples(200)
@given(json_patterns(), json_objects)
def test_json_answer_does_not_depend_on_serialization(
    pattern: tuple[str, tuple], doc: dict
) -> None:
    text, _ = pattern
    compiled = compile(text)
    assert str(compiled) == text
    answers = {message: _exercise(text, message) for message in serializations(doc)}
    assert len(set(answers.values())) == 1, answers


@examples(100)
@given(json_patterns(), json_docs, st.sampled_from(["", " ", "\n", "x", "\ufeff"]))
def test_json_patterns_only_match_json_objects(
    pattern: tuple[str, tuple], doc: Any, prefix: str
) -> None:
    text, _ = pattern
    message = prefix + json.dumps(doc)
    matched = _exercise(text, message)
    if not isinstance(doc, dict) or prefix.strip(" \n"):
        assert not matched  # J16, A4


# --- 6. str(pattern) round-trips ------------------------------------------------------------


@examples(200, suppress_health_check=[HealthCheck.too_slow])
@given(any_patterns)
def test_str_round_trips(text: str) -> None:
    assert str(compile(text)) == text
