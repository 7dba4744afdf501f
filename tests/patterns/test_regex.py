"""The AWS regex dialect (rules R1-R14) and its translation to RE2."""

from __future__ import annotations

import time

import pytest

from logsieve.patterns import PatternError, compile
from logsieve.patterns.regex import translate
from tests.patterns.rejection import assert_rejected

MATCHES = [
    ("%AUTHORIZED%", "UNAUTHORIZED", True),  # R1 unanchored search
    ("%^[hc]at%", "cat", True),  # R3
    ("%[hc]at$%", "the hat\n", True),  # $ before a final newline, as in Java
    ("%[hc]at$%", "the hat\nx", False),
    ("%colou?r%", "colour", True),  # R4
    ("%[abcx-z]%", "y", True),  # R5
    ("%[^a-z]%", "abc", False),
    ("%[]a]%", "]", True),  # a leading ] is literal inside a class
    ("%[^]a]%", "]a", False),
    ("%a{3,5}%", "aaaaaaa", True),  # R6, A12
    ("%a{,2}b%", "b", True),  # {,n} means {0,n}
    ("%a{ 2 , 3 }%", "aa", True),  # A8: spaces inside braces
    ("%x{2}%", "xx", True),
    ("%}$%", '{"a": 1}', True),  # lone braces are literal
    ("%{a%", "{a", True),
    ("%gra|ey%", "grey", True),  # R7
    ("%10\\.10%", "10x10", False),  # R8
    ("%\\[x\\]%", "[x]", True),
    ("%\\$%", "cost $5", True),
    ("%a\\ b%", "a b", True),
    ("%ab+c%", "ac", False),  # R9
    ("%.at%", " at", True),  # R10
    ("%\\d\\D\\s\\S\\w\\W%", "1a b_c", False),
    ("%\\d\\D\\s\\S\\w%", "1a b_", True),  # R11
    ("%\\w%", "é", False),  # ASCII classes only
    ("%\\x28%", "f(x)", True),  # R12: hex escapes for forbidden characters
    ("%\\x22ok\\x22%", 'say "ok"', True),
    ("%\\x5C%", "a\\b", True),
    ("%user@example\\.com%", "to user@example.com", True),
    ("%a:b%", "a:b", True),  # A8: ':' accepted
    ("%#=/;,-_%", "x#=/;,-_y", True),
    ("%^shutting down%", "shutting down now", True),
    ("%ERROR%", "ERROR caf\udce9", True),  # lone surrogates never raise
]


@pytest.mark.parametrize(("pattern", "message", "expected"), MATCHES)
def test_regex(pattern: str, message: str, expected: bool) -> None:
    compiled = compile(pattern)
    assert compiled.kind == "regex"
    assert compiled.matches(message) is expected


REJECTED = [
    ("%something!%", "'!'"),
    ("%(ab)+%", "'()'"),
    ("%\\(ab\\)%", "'()'"),  # escaping does not make a forbidden character legal
    ("%café%", "'é'"),
    ('%"quoted"%', "'\"'"),
    ("%a&b%", "'&'"),
    ("%a%b%", "whole pattern"),
    ("%abc", "closing '%'"),
    ("%%", "Empty"),
    ("%[abc%", "class"),
    ("%abc\\%", "ends with"),
    ("%\\q%", "escape"),
    ("%\\x4%", "hex"),
    ("%\\xff%", "ASCII"),
    ("%*a%", "Invalid regular expression"),
    ("%a**%", "Invalid regular expression"),
    ("%a{1001}%", "Invalid regular expression"),
    ("%x% ERROR", "whole pattern"),
]


@pytest.mark.parametrize(("pattern", "message"), REJECTED)
def test_rejected(pattern: str, message: str) -> None:
    assert_rejected(pattern, message)


def test_forbidden_character_position() -> None:
    with pytest.raises(PatternError) as err:
        compile("%something!%")
    assert err.value.position == "%something!%".index("!")


def test_translation_keeps_meaning() -> None:
    assert translate("a{,3}") == "a{0,3}"
    assert translate("x$") == "x(?:\\n?\\z)"
    assert translate("[$.]") == "[$.]"


def test_no_catastrophic_backtracking() -> None:
    pattern = compile("%a*a*a*a*a*a*a*a*b%")
    start = time.perf_counter()
    assert not pattern.matches("a" * 100_000)
    assert time.perf_counter() - start < 1.0  # linear-time engine, not a timing target
