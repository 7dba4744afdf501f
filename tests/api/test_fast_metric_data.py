"""The PutMetricData shortcut (``api.fast_metric_data``) answers exactly as the generic path.

The generic path (orjson, then the model walk) is the oracle: for any body the protocol with
the shortcut returns the same parameters, or raises the same AWS error, as the one without.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logsieve.api.awsjson import JsonProtocol
from logsieve.elements import CheckedList
from logsieve.errors import ServiceError


def plain(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters with the shortcut's list as a plain list (its elements are dicts)."""
    return {k: list(v) if type(v) is CheckedList else v for k, v in params.items()}


@pytest.fixture(scope="module")
def fast() -> JsonProtocol:
    return JsonProtocol("cloudwatch", validation_error_code="InvalidParameterValue")


@pytest.fixture(scope="module")
def generic(fast: JsonProtocol) -> JsonProtocol:
    proto = copy.copy(fast)
    proto._fast = {}
    return proto


def outcome(proto: JsonProtocol, body: bytes) -> Any:
    try:
        params = proto.parse_request("PutMetricData", body)
    except ServiceError as error:
        return ("error", error.code, error.status, error.message)
    return ("ok", plain(params))


def body(*data: Any, namespace: Any = "NS", **extra: Any) -> bytes:
    # json, not orjson: integers beyond 64 bits must reach the server too
    return json.dumps({"Namespace": namespace, "MetricData": list(data), **extra}).encode()


def test_valid_data_takes_the_shortcut(fast: JsonProtocol, generic: JsonProtocol) -> None:
    raw = body(
        {"MetricName": "m", "Value": 1, "Timestamp": 1.7e9, "Unit": "Count",
         "Dimensions": [{"Name": "Host", "Value": "a"}], "StorageResolution": 1},
        {"MetricName": "n", "Values": [1.5, 2], "Counts": [1, 3]},
        {"MetricName": "s", "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1,
                                                "Maximum": 2}},
    )  # fmt: skip
    params = fast.parse_request("PutMetricData", raw)
    assert type(params["MetricData"]) is CheckedList
    assert outcome(fast, raw) == outcome(generic, raw)


EDGE_BODIES = [
    body({"MetricName": ""}),
    body({"MetricName": "m" * 256, "Value": 1}),
    body({"MetricName": "m" * 255, "Value": 1}),
    body({"MetricName": "😀" * 128, "Value": 1}),  # 128 characters, 256 UTF-16 units
    body({"MetricName": "m", "Value": "1"}),
    body({"MetricName": "m", "Value": None}),
    body({"MetricName": "m", "Value": True}),
    body({"MetricName": "m", "Unit": "Furlongs"}),
    body({"MetricName": "m", "Timestamp": "2026-12-03T10:00:00Z"}),
    body({"MetricName": "m", "Timestamp": "yesterday"}),
    body({"MetricName": "m", "StorageResolution": 0}),
    body({"MetricName": "m", "StorageResolution": 1.0}),
    body({"MetricName": "m", "StorageResolution": 2**40}),
    body({"MetricName": "m", "Dimensions": [{"Name": "a", "Value": ""}]}),
    body({"MetricName": "m", "Dimensions": [{"Name": "a"}]}),
    body({"MetricName": "m", "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}),
    body({"MetricName": "m", "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1}}),
    body({"MetricName": "m", "Values": [1, "x"]}),
    body({"Value": 1}),
    body({"MetricName": "m"}, namespace=":colon"),
    body({"MetricName": "m"}, namespace=""),
    body({"MetricName": "m", "Unknown": 1}),
    body(None),
    body("m"),
    b'{"Namespace":"NS","MetricData":[{"MetricName":"\\ud83d\\ude00","Value":1}]}',
    b'{"Namespace":"NS","MetricData":[{"MetricName":"m","Value":1}',
    b'{"Namespace":"NS","MetricData":{}}',
]


@pytest.mark.parametrize("raw", EDGE_BODIES)
def test_edge_bodies_answer_as_the_generic_path(
    fast: JsonProtocol, generic: JsonProtocol, raw: bytes
) -> None:
    assert outcome(fast, raw) == outcome(generic, raw)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(allow_nan=False),
    st.text(max_size=4), st.sampled_from(["Count", "Bytes", "Furlongs", "None", ""]),
)  # fmt: skip
dimension = st.fixed_dictionaries(
    {}, optional={"Name": st.one_of(st.text(max_size=3), scalars), "Value": scalars}
)
datum = st.fixed_dictionaries(
    {},
    optional={
        "MetricName": st.one_of(st.text(max_size=3), scalars),
        "Value": scalars,
        "Values": st.one_of(st.lists(scalars, max_size=3), scalars),
        "Counts": st.lists(scalars, max_size=3),
        "Timestamp": scalars,
        "Unit": scalars,
        "StorageResolution": scalars,
        "Dimensions": st.one_of(st.lists(dimension, max_size=3), scalars),
        "StatisticValues": st.one_of(
            st.fixed_dictionaries({}, optional={k: scalars for k in
                                                ("SampleCount", "Sum", "Minimum", "Maximum")}),
            scalars,
        ),
    },
)  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(datum, scalars), max_size=4))
def test_any_body_answers_as_the_generic_path(
    fast: JsonProtocol, generic: JsonProtocol, data: list[Any]
) -> None:
    raw = body(*data)
    assert outcome(fast, raw) == outcome(generic, raw)
