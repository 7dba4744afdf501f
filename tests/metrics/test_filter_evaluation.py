"""``metrics.filters.evaluate`` against a plain reference: each filter, each event, alone.

``evaluate`` shares work between filters (columns per window, one parsed event and one
alignment per pattern shared by every filter); whatever it shares, its tally must equal what
each filter gives when it looks at each message on its own through the public pattern API.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logsieve.metrics import columns
from logsieve.metrics.filters import CompiledFilter, evaluate
from logsieve.patterns import PatternError, compile
from logsieve.storage.metrics import dimension_key
from logsieve.storage.records import MetricFilter

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FIELDS = "version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend"  # noqa: E501
REJECT = f"[{FIELDS}, action = REJECT, flowlogstatus]"
FLOW = f"[{FIELDS}, action, flowlogstatus]"

# (pattern, transformation): literal and field values, dimensions, default values, ellipses,
# JSON paths, text terms; several share a pattern, as real filter sets do.
FILTERS: list[tuple[str, dict[str, Any]]] = [
    (REJECT, {"metricValue": "1", "unit": "Count"}),
    (REJECT, {"metricValue": "$bytes", "unit": "Bytes"}),
    (REJECT, {"metricValue": "1", "dimensions": {"Port": "$destport", "Src": "$source"}}),
    (FLOW, {"metricValue": "$bytes", "defaultValue": 0}),
    (FLOW, {"metricValue": "$packets", "dimensions": {"Action": "$action"}}),
    (FLOW, {"metricValue": "$14"}),
    (f"[{FIELDS.replace('destport', 'destport = 22')}, action, flowlogstatus]",
     {"metricValue": "1"}),
    (f"[{FIELDS.replace('bytes', 'bytes > 10000')}, action, flowlogstatus]",
     {"metricValue": "$packets", "defaultValue": 1}),
    ("[version, ..., action = ACCEPT, status]", {"metricValue": "$version"}),
    ("[first, ..., last]", {"metricValue": "2", "dimensions": {"Last": "$last"}}),
    ("[a, b, c]", {"metricValue": "$b", "dimensions": {"C": "$c"}}),
    ("[a, ..., x = \"*b*\", ..., z]", {"metricValue": "$1", "dimensions": {"Z": "$z"}}),
    # No literal to test first: these share one split of each message (mf2).
    (f"[{FIELDS.replace('bytes', 'bytes > 10000')}, action, flowlogstatus]",
     {"metricValue": "1", "defaultValue": 0}),
    ("[a, ..., port = 3389, status]", {"metricValue": "1"}),
    ("[a, b != 1, ...]", {"metricValue": "2", "defaultValue": 5}),
    ("[x, y, z]", {"metricValue": "1"}),
    ("[a, b >= 5]", {"metricValue": "1"}),
    ("ACCEPT", {"metricValue": "1", "defaultValue": 0}),
    ("NODATA", {"metricValue": "3"}),
    ("", {"metricValue": "1"}),
    ('{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }',
     {"metricValue": "1", "defaultValue": 0}),
    ("{ $.eventName = * }",
     {"metricValue": "$.eventVersion",
      "dimensions": {"Event": "$.eventName", "User": "$.userIdentity.type"}}),
    ("{ $.n > 1 }", {"metricValue": "$.n", "dimensions": {"K": "$.k"}}),
]  # fmt: skip

EDGES = [
    "2 1 eni-1 10.0.0.1 10.0.0.2 22 22 6 1 20000 1 2 REJECT OK",
    '2 1 eni-1 "10.0.0.1 x" 10.0.0.2 1 3389 6 1 5 1 2 REJECT OK',
    "2 1 eni-1 [10.0.0.1] 10.0.0.2 1 22 6 7 50000 1 2 ACCEPT OK  trailing  words ",
    "2\t1  eni-1 10.0.0.1 10.0.0.2 1 22 6 7 1.5e3 1 2 REJECT OK",
    "2 1 eni-é 10.0.0.1 10.0.0.2 1 22 6 - - 1 2 REJECT OK",
    "2 1 eni-1 10.0.0.1 10.0.0.2 1 22 6 7 8 1 2 REJECT",
    f"2 1 eni-1 10.0.0.1 10.0.0.2 1 {'9' * 400} 6 7 {'8' * 400} 1 2 REJECT OK",  # not a float
    "a b c d",
    "a b",
    "one",
    "",
    "   ",
    '{"n": 5, "k": "x"}',
    '{"n": 5.5, "k": 7}',
    '{"n": "9", "k": "y"}',
    '{"n": 2}',
    '{"n": [3, 4], "k": {"z": 1}}',
    "{not json",
]


def _text(value: float | str) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def reference(items: list[MetricFilter], events: list[tuple]) -> Counter:
    """Each filter applied to each message alone (no sharing, no fast path)."""
    tally: Counter = Counter()
    for item in items:
        t = item.transformations[0]
        pattern = compile(item.pattern)
        unit = t.get("unit") or "None"
        for timestamp, _, _, _, ingested, message in events:
            if ingested < item.creation_time:
                continue
            minute = timestamp // 60000 * 60
            if not pattern.matches(message):
                if t.get("defaultValue") is not None:
                    metric = (t["metricNamespace"], t["metricName"], ())
                    tally[(metric, minute, unit, float(t["defaultValue"]))] += 1
                continue
            value = pattern.value(message, t["metricValue"])
            if not isinstance(value, float):
                continue
            found = {}
            for name, selector in (t.get("dimensions") or {}).items():
                selected = pattern.value(message, selector)
                if selected is not None:
                    found[name] = _text(selected)
            metric = (t["metricNamespace"], t["metricName"], dimension_key(found))
            tally[(metric, minute, unit, value)] += 1
    return tally


def messages() -> list[str]:
    flow = (SAMPLES / "vpc-flow-default.log").read_text().splitlines()
    trail = (SAMPLES / "cloudtrail-events.jsonl").read_text().splitlines()
    return flow + trail + EDGES


def filters(created: list[int]) -> list[MetricFilter]:
    return [
        MetricFilter("g", f"f{i}", pattern,
                     [{"metricName": f"m{i}", "metricNamespace": "NS", **transformation}],
                     created[i])
        for i, (pattern, transformation) in enumerate(FILTERS)
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_evaluate_equals_each_filter_alone(seed: int) -> None:
    rng = random.Random(seed)
    pool = messages()
    events = [
        (1_700_000_000_000 + i * rng.randint(0, 3_000), i, 1, 1, 1_000 + i, rng.choice(pool))
        for i in range(3_000)
    ]
    # Some filters exist from the start, others were created in the middle of the window.
    items = filters([rng.choice([0, 0, 1_000 + rng.randrange(3_000)]) for _ in FILTERS])
    compiled = [CompiledFilter(item) for item in items]
    got = Counter(evaluate(compiled, events))
    want = reference(items, events)
    assert got == want
    assert sum(want.values()) > len(events)  # the filters did count


def test_filters_sharing_a_pattern_count_what_each_counts_alone() -> None:
    pool = messages()
    events = [(1_700_000_000_000 + i * 997, i, 1, 1, 0, m) for i, m in enumerate(pool * 3)]
    items = filters([0] * len(FILTERS))
    together = Counter(evaluate([CompiledFilter(item) for item in items], events))
    alone: Counter = Counter()
    for item in items:
        alone.update(evaluate([CompiledFilter(item)], events))
    assert together == alone == reference(items, events)


# --- the column path (metrics.columns), searched by Hypothesis --------------------------------

TOKENS = ["22", "3389", "-", "REJECT", "ACCEPT", "OK", "007", "1.5e3", "-5", "10001", "x",
          "eni-1", "\x00", "é", '"a b"', "[c d]", "1e400", "nan"]  # fmt: skip
GAPS = [" ", " ", " ", "\t", "  ", "\n"]
CONDITIONS = ["", " = 22", " != 22", " > 1000", " = REJECT", " = ACC*", " = *", " >= -5",
              " = 22 || n = 3389", " != OK"]  # fmt: skip


@st.composite
def lines(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=8))
    text = "".join(draw(st.sampled_from(GAPS)) + token for token in tokens)
    return text if draw(st.booleans()) else text.strip()


@st.composite
def space_filters(draw: st.DrawFn, index: int) -> tuple[str, dict[str, Any]]:
    """A space-delimited pattern (0-2 ellipses, conditions) and a transformation reading
    its fields by name or number, with dimensions and a default value sometimes."""
    count = draw(st.integers(1, 6))
    positions = [f"f{i}{draw(st.sampled_from(CONDITIONS))}" for i in range(count)]
    for _ in range(draw(st.integers(0, 2))):
        positions.insert(draw(st.integers(0, len(positions))), "...")
    pattern = "[" + ", ".join(positions) + "]"
    fields = [f"$f{i}" for i in range(count)] + [f"${n}" for n in range(1, 9)]
    transformation: dict[str, Any] = {
        "metricValue": draw(st.sampled_from(["1", "2.5", *fields])),
        "metricName": f"m{index}",
        "metricNamespace": "NS",
    }
    names = draw(st.lists(st.sampled_from(["A", "B", "C"]), max_size=3, unique=True))
    if names:
        transformation["dimensions"] = {name: draw(st.sampled_from(fields)) for name in names}
    if draw(st.booleans()):
        transformation["defaultValue"] = draw(st.sampled_from([0, 1, 2.5]))
    return pattern, transformation


@st.composite
def windows(draw: st.DrawFn) -> tuple[list[MetricFilter], list[tuple]]:
    specs = [draw(space_filters(i)) for i in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):  # a pattern shared by two filters
        pattern, transformation = specs[0]
        specs.append((pattern, {**transformation, "metricName": "shared", "metricValue": "1"}))
    pool = draw(st.lists(lines(), min_size=1, max_size=6))
    size = draw(st.integers(1, 40))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=size, max_size=size))
    steps = draw(st.lists(st.sampled_from([0, 0, 0, 7, 61_000]), min_size=size, max_size=size))
    events, timestamp = [], 1_700_000_000_000
    for i, (pick, step) in enumerate(zip(picks, steps, strict=True)):
        timestamp += step
        events.append((timestamp, i, 1, 1, 1_000 + i, pool[pick]))
    created = [draw(st.sampled_from([0, 0, 1_000 + size // 2])) for _ in specs]
    items = [
        MetricFilter("g", f"f{i}", pattern, [transformation], created[i])
        for i, (pattern, transformation) in enumerate(specs)
    ]
    return items, events


@settings(max_examples=300, deadline=None)
@given(windows(), st.sampled_from([1, 2, 3, 2048]), st.sampled_from([1, 30, 1 << 20]))
def test_columns_count_what_each_filter_counts_alone(
    window: tuple, chunk: int, chunk_chars: int
) -> None:
    items, events = window
    try:
        compiled = [CompiledFilter(item) for item in items]
    except PatternError:
        assume(False)
    with patch.object(columns, "CHUNK", chunk), patch.object(columns, "CHUNK_CHARS", chunk_chars):
        got = Counter(evaluate(compiled, events))
    assert got == reference(items, events)


@pytest.mark.parametrize(
    ("pattern", "batch"),
    [
        # field counts 2, 1, 3: as many fields as three messages of 2 (the joined split's
        # length alone cannot tell them apart)
        ("[a, b = 22]", ["1 22", "22", "1 22 22"]),
        # the last position takes the rest of the line: "22 22" is not 22
        ("[a, b = 22]", ["1 22", "1 22 22", "1 22  ", "1 22 x"]),
        ("[a, b]", ["1 22", "1 22 22", "5 7\t", "1 22 x"]),
        ("[a, ..., b = 22]", ["1 22", "1 x 22", "22", "1 22 x"]),
    ],
)
def test_columns_read_each_message_as_aligned_alone(pattern: str, batch: list[str]) -> None:
    items = [
        MetricFilter("g", "v", pattern, [{"metricName": "v", "metricNamespace": "NS",
                                          "metricValue": "$b", "defaultValue": 0}], 0),
        MetricFilter("g", "d", pattern, [{"metricName": "d", "metricNamespace": "NS",
                                          "metricValue": "1", "dimensions": {"A": "$a"}}], 0),
    ]  # fmt: skip
    events = [(1_700_000_000_000, i, 1, 1, 1, m) for i, m in enumerate(batch * 2)]
    got = Counter(evaluate([CompiledFilter(item) for item in items], events))
    assert got == reference(items, events)
