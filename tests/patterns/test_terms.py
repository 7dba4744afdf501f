"""Unstructured term patterns (rules G2, T1-T12)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logsieve.patterns import PatternError, compile

CASES = [
    # G2 / A15: empty and blank patterns match everything
    ("", "", True),
    ("   ", "anything", True),
    ('""', "anything", True),
    # T1 substring, T3 case-sensitive
    ("ERR", "xERRORx", True),
    ("error", "ERROR", False),
    # T2 AND in any order
    ("b a", "a then b", True),
    ("a b c", "a b", False),
    # T4 quoted phrase: contiguous, punctuation kept
    ('"a b"', "a  b", False),
    ('"user: bob"', "login user: bob ok", True),
    ('"[ERROR]" Exception', "[ERROR] IllegalArgumentException", True),
    # T5 OR, T6 ? ignored next to plain or - terms
    ("?a ?b", "b", True),
    ("?a ?b", "c", False),
    ("?a ?b c", "c", True),
    ("?a ?b c", "a", False),
    ("?a -b", "a", True),
    ("?a -b", "zzz", True),
    ("?a -b", "b", False),
    # T7 exclusion, T11 only exclusions
    ("a -b", "a", True),
    ("a -b", "a b", False),
    ("-a -b", "c", True),
    ("-a -b", "b", False),
    ('-"a b"', "a  b", True),
    # T8 blank quoted term is always present
    ('" "', "x", True),
    ('" " ERROR', "warn", False),
    ('?" " ?ERROR', "warn", True),
    ('-" "', "x", False),
    # T9 unquoted punctuation is literal (A9), T10 numbers are substrings (A10)
    ("10.0.0.1", "from 10.0.0.1:443", True),
    ("key=v", "a key=v b", True),
    ("404", "4040", True),
    ("-1", "exit -1", False),
    # T12 escapes inside quotes; other backslashes stay literal
    (r'"a\\b"', r"x a\b y", True),
    (r'"C:\temp"', r"dir C:\temp", True),
    # unicode inside quotes
    ('"エラー発生"', "ログ: エラー発生 code=1", True),
    # whitespace of any kind separates terms
    ("a\tb", "b a", True),
]


@pytest.mark.parametrize(("pattern", "message", "expected"), CASES)
def test_terms(pattern: str, message: str, expected: bool) -> None:
    compiled = compile(pattern)
    assert compiled.kind == "text"
    assert compiled.matches(message) is expected
    assert compiled.extract(message) == ({} if expected else None)
    assert compiled.extracted_fields(message) is None


@pytest.mark.parametrize(
    ("pattern", "position"),
    [
        ('"unterminated', 0),
        ("ok ?", 3),
        ("ok - x", 3),
        ('"a"b', 3),
        ("“ERROR”", 0),
        ("café", 3),
    ],
)
def test_rejected_terms(pattern: str, position: int) -> None:
    with pytest.raises(PatternError) as err:
        compile(pattern)
    assert err.value.position == position


def test_curly_quotes_get_aws_message() -> None:
    with pytest.raises(PatternError, match=r"Invalid character\(s\) in term '“”'"):
        compile("“ERROR”")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["ACCEPT", "?ACCEPT", '"NO DATA"', "-ACCEPT", '" "', "ACCEPT REJECT", "%AC+%",
                     "?ACCEPT ?REJECT", "accept", ""]),
    st.lists(st.sampled_from(["ACCEPT", "NO DATA", "accept", " ", "x", "é"]), max_size=6).map(
        "".join
    ),
)  # fmt: skip
def test_substring_is_the_whole_pattern_when_set(pattern: str, message: str) -> None:
    """``substring`` (metric counting tests it from C instead of ``matches``) is set only
    when containing it is exactly matching."""
    compiled = compile(pattern)
    if compiled.substring is not None:
        assert compiled.matches(message) == (compiled.substring in message)
    if pattern in ("ACCEPT", "?ACCEPT", '"NO DATA"'):
        assert compiled.substring is not None
