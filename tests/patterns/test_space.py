"""Space-delimited patterns (rules S1-S16) and their extracted values."""

from __future__ import annotations

import pytest

from logsieve.patterns import Event, PatternError, compile
from tests.patterns.rejection import assert_rejected

FLOW = "2 123456789012 eni-abc 10.0.0.1 10.0.0.2 443 49152 6 10 840 1620000000 1620000060 REJECT OK"
NODATA = "2 123456789012 eni-abc - - - - - - - 1431280876 1431280934 - NODATA"
APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
VPC = (
    "[version, account, eni, src, dst, srcport, dstport, protocol, packets, bytes, start, end, "
    "action, status]"
)

CASES = [
    # S1 quotes and brackets group fields; S2 names match anything
    ("[a, b, c, d, e, f, g]", APACHE, True),
    ("[a, b, c, d, e, f, g, h]", APACHE, False),
    ("[ip, id, user, ts = *2000*, req = %^GET%, code = 404, size = 1534]", APACHE, True),
    # S3 whole-field strings with end wildcards; numbers compare as numbers
    ("[w = ERR]", "ERROR", False),
    ("[w = ERR*]", "ERROR", True),
    ("[w = *ROR]", "ERROR", True),
    ("[w = *RR*]", "ERROR", True),
    ("[w = E*R]", "ERROR", False),
    ("[w = *]", "x", True),
    ("[code = 404]", "404.0", True),
    ("[code = 404]", "0404", True),
    ("[code = 404]", "404x", False),
    ('[code = "404"]', "404.0", False),
    # S4 ordering comparisons are numeric only; S15 non-numbers never satisfy them
    ("[bytes > 1000]", "1534", True),
    ("[bytes > 1000]", "999.5", False),
    ("[bytes >= 1e3]", "1000", True),
    ("[bytes < 0]", "-1", True),
    ("[bytes > 1000]", "-", False),
    ("[bytes > 1000]", "abc", False),
    # S5 != on strings and numbers; a non-number is != any number
    ("[w != ERROR && w != WARNING, rest]", "INFO started", True),
    ("[w != ERROR && w != WARNING, rest]", "ERROR failed", False),
    ("[w != 22]", "-", True),
    ("[w != 22]", "22", False),
    # S6 && / || / parentheses inside a position
    ("[code = 404 || code = 410, size]", "410 1", True),
    ("[code >= 200 && code <= 204, size]", "205 1", False),
    ("[(ip != 10.* && ip != 192.*) || ip = 127.*, rest]", "127.0.0.1 x", True),
    ("[(ip != 10.* && ip != 192.*) || ip = 127.*, rest]", "10.0.0.1 x", False),
    # S7 ellipsis anywhere; S8 too few fields
    ("[..., action = REJECT, status]", FLOW, True),
    ("[version, ..., status = OK]", FLOW, True),
    ("[version = 2, ..., action = ACCEPT, status]", FLOW, False),
    ("[a, b, c, ...]", "x y z", True),
    ("[a, b, c, d, ...]", "x y z", False),
    ("[..., a, b]", "x", False),
    ("[...]", "", True),
    # two ellipses: the middle run takes its leftmost place where its conditions hold
    ("[..., x = b, y = c, ...]", "a b c b c d", True),
    ("[..., x = b, y = d, ...]", "a b c b c d", False),
    ("[a, ..., x = 5, ..., z]", "1 2 5 3 4", True),
    ("[a, ..., x = 1, ..., z]", "1 2 5 3 4", False),
    # S9 greedy last field without an ellipsis
    ("[w1 = ERROR, w2]", "ERROR a b c", True),
    ("[w1 = ERROR]", "ERROR a b c", False),
    ('[w1, w2 = "*b c*"]', "ERROR a b c d", True),
    # S10 regex conditions search inside the field
    ("[ip = %127\\.0\\.0\\.[1-9]%, rest]", "127.0.0.15 x", True),
    ("[url = %/[0-9]+$%, t]", "/a/67 1", True),
    ("[url != %^/a%, t]", "/a/67 1", False),
    # S12 [] matches everything
    ("[]", "", True),
    ("[]", "a b", True),
    # S13 unnamed positions
    ("[level, , msg]", "WARN x y", True),
    ("[,]", "a", False),
    ("[,]", "a b", True),
    # S14 quoted condition values keep wildcards
    ('[action = "REJECT", rest]', "REJECT x", True),
    ('[id = "*-*", rest]', "a-b x", True),
    ('[msg = "a b"]', '"a b"', True),
    # S16/A11 tabs and runs of spaces are one separator; leading/trailing blanks ignored
    ("[a, b = y, c]", "x\ty  \t z", True),
    ("[a, b]", "   x y   ", True),
    ("[a = x, b = y]", "x y\n", True),
    # VPC NODATA records: '-' everywhere
    (VPC.replace("bytes", "bytes > 0"), NODATA, False),
    (VPC.replace("status", "status = NODATA"), NODATA, True),
    # Unicode fields go through the general splitter
    ("[user = café, rest]", "café logged in", True),
    ("[a, b = x]", "é\u00a0x", False),  # a no-break space is not a separator
]


@pytest.mark.parametrize(("pattern", "message", "expected"), CASES)
def test_space(pattern: str, message: str, expected: bool) -> None:
    compiled = compile(pattern)
    assert compiled.kind == "space"
    assert compiled.matches(message) is expected
    assert compiled.match_event(Event(message)) is expected
    assert (compiled.extract(message) is not None) is expected


EXTRACTS = [
    ("[..., size]", "a b c", {"$1": "a", "$2": "b", "$size": "c"}),
    ("[]", "a [b c] d", {"$1": "a", "$2": "b c", "$3": "d"}),
    ("[x, ...]", "a b", {"$x": "a", "$2": "b"}),
    ("[x, y]", 'a "b c" [d]', {"$x": "a", "$y": '"b c" [d]'}),  # raw greedy remainder
    ("[x, y]", 'a "b c"', {"$x": "a", "$y": "b c"}),
    ("[x, , z]", "a b c d", {"$x": "a", "$2": "b", "$z": "c d"}),
    ("[x, y, ]", "a b c d", {"$x": "a", "$y": "b", "$3": "c d"}),
    ("[..., x = 2, ...]", "1 2 3", {"$1": "1", "$x": "2", "$3": "3"}),
    ("[code = 4* && code != 404, rest]", "401 x", {"$code": "401", "$rest": "x"}),
]


@pytest.mark.parametrize(("pattern", "message", "expected"), EXTRACTS)
def test_extract(pattern: str, message: str, expected: dict[str, str]) -> None:
    assert compile(pattern).extract(message) == expected


def test_extracted_fields_for_subscriptions() -> None:
    pattern = compile("[..., action = REJECT, status]")
    assert pattern.extracted_fields(FLOW) == {"action": "REJECT", "status": "OK"}
    assert pattern.extracted_fields(FLOW.replace("REJECT", "ACCEPT")) is None
    assert compile("[a, , c]").extracted_fields("x y z") == {"a": "x", "c": "z"}


def test_value_view_for_metric_filters() -> None:
    pattern = compile("[ip, id, user, ts, request, status_code = 4*, size]")
    assert pattern.value(APACHE, "$size") == 1534.0
    assert pattern.value(APACHE, "$request") == "GET /index.html HTTP/1.0"
    assert pattern.value(APACHE, "$7") == 1534.0
    assert pattern.value(APACHE.replace("404", "200"), "$size") is None
    with pytest.raises(PatternError):
        pattern.value(APACHE, "$nope")
    with pytest.raises(PatternError):
        pattern.value(APACHE, "$.size")
    # an integer beyond a float's range is no metric value (it used to raise OverflowError,
    # which stopped a log group's metric counting)
    huge = "9" * 400
    assert pattern.value(APACHE.replace("1534", huge), "$size") == huge


REJECTED = [
    ("[a, b", "closing ']'"),
    ("[a] x", "after the closing"),
    ("[a b]", "Expected an operator"),
    ("[a = ]", "Expected a value"),
    ("[a >= x]", "not a number"),
    ("[1a]", "Invalid field name"),
    ("[a = 1, [b]]", "Unexpected '['"),
    ("[a = %x%, b = %y%, c = %z%]", "at most 2 regular"),
    ("[(a = 1, b]", "')'"),
    ("[a = 1 & a = 2]", "'&&'"),
    ("[a = %(x)%]", "Invalid character"),
    ("[= 1]", "field name"),
]


@pytest.mark.parametrize(("pattern", "message"), REJECTED)
def test_rejected(pattern: str, message: str) -> None:
    assert_rejected(pattern, message)


@pytest.mark.parametrize(
    "pattern", [VPC, "[..., action = REJECT, status]", "[v, ..., x, ..., status]"]
)
def test_one_alignment_per_event_and_pattern_shared_by_every_view(
    pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A metric filter's match, value and dimensions, a subscription's extractedFields and
    a second filter with the same pattern all read one alignment of the shared Event."""
    from logsieve.patterns.match_space import SpaceMatcher

    aligned = []
    original = SpaceMatcher._align
    monkeypatch.setattr(
        SpaceMatcher, "_align", lambda self, fields: aligned.append(1) or original(self, fields)
    )
    compiled = compile(pattern)
    value, dimension = compiled.selector("$1"), compiled.selector("$status")
    event = Event(FLOW)
    for _ in range(2):
        assert compiled.match_event(event)
        assert value(event) == 2.0
        assert dimension(event) == "OK"
        assert compiled.extracted_fields(event)["status"] == "OK"
        assert compiled.extract(event)["$status"] == "OK"
    assert len(aligned) == 1
    miss = Event(NODATA.replace("NODATA", "SKIPDATA"))
    assert compiled.match_event(miss) is ("REJECT" not in pattern)
    assert value(miss) == (None if "REJECT" in pattern else 2.0)
    assert len(aligned) <= 2
