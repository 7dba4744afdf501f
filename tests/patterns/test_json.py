"""JSON patterns (rules J1-J23, R14 inside JSON) and the typing reading of A3."""

from __future__ import annotations

import json

import pytest

from logsieve.patterns import Event, PatternError, compile
from tests.patterns.rejection import assert_rejected

DOC = json.dumps(
    {
        "eventType": "UpdateTrail",
        "ip": "111.111.111.111",
        "n": 400,
        "f": 55.5,
        "big": 1e3,
        "neg": -5,
        "s_num": "5000",
        "flag": True,
        "off": False,
        "nothing": None,
        "tags": ["dev", "test"],
        "nums": [1, 2, 3],
        "grid": [[0, 1], [2, 3]],
        "user": {"id": 1, "name": "alice", "roles": ["admin"]},
        "list": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "cluster.name": "c",
        "client-ip": "10.0.1.2",
        "huge": 123456789012345678901234567890,
        "enc": "caf\u00e9",
    }
)

CASES = [
    # J1 whole-string equality, J2 bare values, J21 case
    ('{ $.eventType = "UpdateTrail" }', True),
    ('{ $.eventType = "Update" }', False),
    ("{ $.eventType = UpdateTrail }", True),
    ('{ $.eventtype = "UpdateTrail" }', False),
    ('{ $.user.name = "alice" }', True),
    # J3 wildcards at the ends only
    ('{ $.eventType = "*Trail" }', True),
    ("{ $.eventType = Update* }", True),
    ('{ $.eventType = "*dateTr*" }', True),
    ('{ $.eventType = "Upd*Trail" }', False),
    ("{ $.ip = 111.111.* }", True),
    ("{ $.client-ip = 10.0.1.* }", True),
    # J4 != on strings and numbers; J18/A7 a missing property satisfies nothing
    ("{ $.ip != 123.123.* }", True),
    ('{ $.eventType != "UpdateTrail" }', False),
    ('{ $.missing != "x" }', False),
    ("{ $.n != 500 }", True),
    ("{ $.flag != 1 }", False),  # booleans are neither strings nor numbers
    ("{ $.nothing != 1 }", False),
    # J5/J6 numbers by value, with sign, fraction and exponent
    ("{ $.n = 400.0 }", True),
    ("{ $.n = 4e2 }", True),
    ("{ $.n >= +400 }", True),
    ("{ $.n < 400 }", False),
    ("{ $.f <= 55.5 }", True),
    ("{ $.f > 55 }", True),
    ("{ $.big = 1000 }", True),
    ("{ $.neg < -4.5 }", True),
    ("{ $.n > 1e-3 }", True),
    ("{ $.huge > 1e29 }", True),  # beyond 64 bits still parses
    # A3: no coercion between strings and numbers, except wildcards/regex on a number's text
    ("{ $.s_num > 1000 }", False),
    ("{ $.s_num = 5000 }", False),
    ('{ $.n = "400" }', False),
    ("{ $.n = 4* }", True),
    ('{ $.n = "4*" }', True),
    ("{ $.n = %^40% }", True),
    ("{ $.big = 10* }", True),
    ("{ $.flag = true }", False),
    # J7 indexes; out of range selects nothing
    ('{ $.tags[1] = "test" }', True),
    ("{ $.grid[1][0] = 2 }", True),
    ("{ $.list[1].name = b }", True),
    ('{ $.tags[5] = "x" }', False),
    ("{ $.user[0] = 1 }", False),
    # J8 bracketed keys with dots; the dotted path means nesting
    ("{ $.['cluster.name'] = c }", True),
    ('{ $["cluster.name"] = c }', True),
    ("{ $.cluster.name = c }", False),
    # J9 wildcards are existential
    ('{ $.tags[*] = "test" }', True),
    ('{ $.tags[*] = "prod" }', False),
    ("{ $.list[*].id = 2 }", True),
    ('{ $.user.* = "alice" }', True),
    ('{ $.tags[*] != "dev" }', True),
    ("{ $.nums[*] > 2 }", True),
    ("{ $.nums[*] > 3 }", False),
    # J10 objects and arrays never satisfy = or !=
    ("{ $.nums = 1 }", False),
    ("{ $.nums != 1 }", False),
    ("{ $.user != 1 }", False),
    # J11 IS TRUE/FALSE/NULL; a missing key is not null
    ("{ $.flag IS TRUE }", True),
    ("{ $.off IS FALSE }", True),
    ("{ $.nothing IS NULL }", True),
    ("{ $.missing IS NULL }", False),
    ("{ $.flag IS FALSE }", False),
    ("{ $.nothing is null }", True),
    # J12 NOT EXISTS; null exists
    ("{ $.missing NOT EXISTS }", True),
    ("{ $.nothing NOT EXISTS }", False),
    ("{ $.list[*].zzz NOT EXISTS }", True),
    ("{ $.list[*].id NOT EXISTS }", False),
    # J14 precedence: && binds tighter than ||
    ('{ $.n = 1 || $.n = 400 && $.eventType = "x" }', False),
    ('{ ($.n = 1 || $.n = 400) && $.eventType = "UpdateTrail" }', True),
    ('{ $.n = 400 || $.n = 1 && $.eventType = "x" }', True),
    ("{ (($.n = 400)) }", True),
    ("{ $.n = 1 || $.n = 2 || $.n = 400 }", True),
    ("{ $.n = 400 && $.f = 55.5 && $.flag IS TRUE }", True),
    # J15 = * means the property has a string or number value (A3: not null)
    ("{ $.n = * }", True),
    ('{ $.eventType = "*" }', True),
    ("{ $.nothing = * }", False),
    ("{ $.missing = * }", False),
    ("{ $.user = * }", False),
    # J17 regex values, anchored to the value; != negates
    ("{ $.eventType = %Trail% }", True),
    ("{ $.eventType = %^Trail% }", False),
    ("{ $.eventType != %^Trail% }", True),
    ("{ $.eventType = %Trail% && $.ip = %^111% }", True),
    # J20 hyphens in names, J23 free whitespace
    ("{$.n=400}", True),
    ("{\n\t$.n\t=\t400\n}", True),
    ("  {$.n>=400}  ", True),
    # unicode values
    ('{ $.enc = "café" }', True),
]


@pytest.mark.parametrize(("pattern", "expected"), CASES)
def test_json(pattern: str, expected: bool) -> None:
    compiled = compile(pattern)
    assert compiled.kind == "json"
    assert compiled.matches(DOC) is expected
    assert compiled.match_event(Event(DOC)) is expected
    assert compiled.extract(DOC) == ({} if expected else None)


@pytest.mark.parametrize(
    "message",
    [
        "eventType=UpdateTrail",  # J16 plain text
        '{"eventType": "UpdateTrail"',  # truncated
        '["eventType", "UpdateTrail"]',  # not an object
        '2024-01-01T00:00:00Z\tabc\tINFO\t{"eventType": "UpdateTrail"}',  # A4 prefixed JSON
        '{"eventType": NaN}',
        "",
    ],
)
def test_non_object_messages_never_match(message: str) -> None:
    assert not compile("{ $.eventType = * || $.x NOT EXISTS }").matches(message)


def test_escaped_json_still_matches() -> None:
    # The raw text holds no literal "alice": the pre-check must not rule it out.
    message = '{"user": "\\u0061lice", "k\\u0065y": 1}'
    assert compile('{ $.user = "alice" }').matches(message)
    assert compile("{ $.key = 1 }").matches(message)


def test_leading_whitespace_and_duplicate_keys() -> None:
    assert compile("{ $.a = 2 }").matches('  \n{"a": 1, "a": 2}')


REJECTED = [
    ("{ $.x IS NOT NULL }", "IS NOT"),
    ("{ $.x EXISTS }", "EXISTS"),
    ("{ $.x NOT THERE }", "EXISTS"),
    ("{ $.x IS MAYBE }", "NULL, TRUE or FALSE"),
    ('{ $.*[*] = "a" }', "one wildcard"),
    ("{ $.a[*] = 1 && $.b[*] = 1 && $.c.* = 1 && $.d[*] = 1 }", "at most 3 wildcard"),
    ("{ $.a = %x% || $.b = %y% || $.c = %z% }", "at most 2 regular"),
    ("{ $.a = 1", "closing '}'"),
    ("{ $.a = 1 } x", "after the closing"),
    ("{ }", "needs a condition"),
    ("{ $.a }", "Expected an operator"),
    ("{ $.a = }", "Expected a value"),
    ("{ $.a > abc }", "not a number"),
    ("{ $.a < %x% }", "not a number"),
    ("{ a = 1 }", "property selector"),
    ("{ $ = 1 }", "needs a property"),
    ("{ $. = 1 }", "Missing property name"),
    ("{ $.a[x] = 1 }", "Invalid selector part"),
    ("{ ($.a = 1 }", "')'"),
    ("{ $.a = 1 & $.b = 2 }", "'&&'"),
    ('{ $.a = "x }', "Unterminated"),
    ("{ $.a = %(x)% }", "Invalid character"),
]


@pytest.mark.parametrize(("pattern", "message"), REJECTED)
def test_rejected(pattern: str, message: str) -> None:
    assert_rejected(pattern, message)


def test_three_wildcards_allowed() -> None:
    compile("{ $.a[*] = 1 && $.b[*] = 1 && $.c.* = 1 }")


def test_value_view_for_metric_filters() -> None:
    pattern = compile("{ $.n = * }")
    assert pattern.value(DOC, "$.n") == 400.0
    assert pattern.value(DOC, "$.user.name") == "alice"
    assert pattern.value(DOC, "$.tags[*]") == "dev"
    assert pattern.value(DOC, "$.user") is None
    assert pattern.value(DOC, "1") == 1.0
    assert pattern.value('{"x": 1}', "$.n") is None  # no match, no value
    with pytest.raises(PatternError):
        pattern.value(DOC, "$size")
