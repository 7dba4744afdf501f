"""The bulk path for common datums (``metrics.datums``) stores and refuses exactly what the
full per-datum check does: the full check, datum by datum, is the oracle."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from logsieve.errors import ServiceError
from logsieve.metrics.service import MetricsService

NOW = 1_700_000_000.0


class Capture:
    def put(self, observations, progress=None) -> None:
        self.observations = list(observations)


def oracle(service: MetricsService, data: list[dict[str, Any]]) -> Any:
    try:
        return [
            obs
            for index, datum in enumerate(data, 1)
            for obs in service.observations("NS", datum, f"MetricData.member.{index}", NOW)
        ]
    except ServiceError as error:
        return (error.code, error.message)


def bulk(service: MetricsService, data: list[dict[str, Any]]) -> Any:
    try:
        service.put_metric_data({"Namespace": "NS", "MetricData": data})
    except ServiceError as error:
        return (error.code, error.message)
    return service.store.observations


numbers = st.one_of(
    st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 2.0**360, 2.0**361, 2.0**-360, 2.0**-361, 1e200, True]),
)  # fmt: skip
stamps = st.one_of(
    st.floats(NOW - 15 * 86400, NOW + 3 * 3600), st.integers(int(NOW) - 10, int(NOW) + 10),
    st.just(NOW - 14 * 86400), st.just(NOW + 7200), st.just("2023-11-14T22:13:20Z"),
)  # fmt: skip
dimension = st.fixed_dictionaries({"Name": st.sampled_from("abc"), "Value": st.sampled_from("xy")})
datum = st.fixed_dictionaries(
    {"MetricName": st.sampled_from(["m", "n"])},
    optional={
        "Value": numbers, "Timestamp": stamps, "Dimensions": st.lists(dimension, max_size=3),
        "Unit": st.sampled_from(["Count", "Bytes"]),
        "StorageResolution": st.sampled_from([1, 60, 5]),
        "Values": st.lists(numbers, max_size=2), "Counts": st.lists(numbers, max_size=2),
        "StatisticValues": st.fixed_dictionaries(
            {"SampleCount": numbers, "Sum": numbers, "Minimum": numbers, "Maximum": numbers}
        ),
    },
)  # fmt: skip


plain = st.fixed_dictionaries(
    {"MetricName": st.sampled_from(["m", "n"]), "Value": numbers},
    optional={
        "Timestamp": stamps, "Dimensions": st.lists(dimension, max_size=3),
        "Unit": st.sampled_from(["Count", "Bytes"]),
        "StorageResolution": st.sampled_from([1, 60, 5]),
    },
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(plain, datum), max_size=6))
def test_bulk_path_agrees_with_the_full_check(data: list[dict[str, Any]]) -> None:
    service = MetricsService(Capture(), now=lambda: NOW)
    assert bulk(service, data) == oracle(service, data)


def test_common_datums_share_their_metric_key() -> None:
    service = MetricsService(Capture(), now=lambda: NOW)
    dims = [{"Name": "b", "Value": "2"}, {"Name": "a", "Value": "1"}]
    data = [{"MetricName": "m", "Value": float(i), "Dimensions": dims} for i in range(3)]
    assert bulk(service, data) == oracle(service, data)
    first, *rest = service.store.observations
    assert first.metric == ("NS", "m", (("a", "1"), ("b", "2")))
    assert all(obs.metric is first.metric for obs in rest)


valid = st.fixed_dictionaries(
    {"MetricName": st.sampled_from(["m", "n"]),
     "Value": st.one_of(st.integers(-(2**70), 2**70), st.floats(-1e100, 1e100))},
    optional={
        "Timestamp": st.one_of(st.floats(NOW - 14 * 86400, NOW + 7200),
                               st.integers(int(NOW) - 86400, int(NOW) + 7200)),
        "Dimensions": st.lists(dimension, max_size=3, unique_by=lambda d: d["Name"]),
        "Unit": st.sampled_from(["Count", "Bytes"]), "StorageResolution": st.sampled_from([1, 60]),
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(valid, min_size=1, max_size=8), st.one_of(st.none(), datum))
def test_whole_requests_of_common_datums_agree_too(data: list[dict], odd: Any) -> None:
    """Requests whose datums are all common and valid take the columnar path; one odd datum
    anywhere sends the request datum by datum: the same answer either way."""
    service = MetricsService(Capture(), now=lambda: NOW)
    assert bulk(service, data) == oracle(service, data)
    if odd is not None:
        mixed = [*data[:1], odd, *data[1:]]
        assert bulk(service, mixed) == oracle(service, mixed)
