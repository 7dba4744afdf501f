"""``StoreReader``: what alarm evaluation reads (``MetricReader.period_statistics``)."""

from __future__ import annotations

from pathlib import Path

from logsieve.metrics import MetricReader, StoreReader
from logsieve.storage.factory import open_stores
from logsieve.storage.metrics import Observation, dimension_key


def test_period_statistics_pool_units_and_answer_percentiles(tmp_path: Path) -> None:
    store = open_stores(tmp_path / "data").metrics()
    metric = ("NS", "Latency", dimension_key({"Api": "get"}))
    store.put(
        [Observation(metric, 600 + i, "Milliseconds", 1, float(i), float(i), float(i))
         for i in range(1, 11)]
        + [Observation(metric, 610, "Seconds", 1, 100.0, 100.0, 100.0),
           Observation(metric, 700, "Milliseconds", 2, 10.0, 4.0, 6.0)]
    )  # fmt: skip
    reader: MetricReader = StoreReader(store)
    pooled = reader.period_statistics("NS", "Latency", {"Api": "get"}, 600, 720, 60,
                                      percentiles=["p50", "p90"])  # fmt: skip
    assert [(s.start, s.sample_count, s.sum, s.minimum, s.maximum) for s in pooled] == [
        (600, 11, 155.0, 1.0, 100.0),
        (660, 2, 10.0, 4.0, 6.0),
    ]
    assert pooled[0].percentiles == {"p50": 6.0, "p90": 10.0}
    assert pooled[1].percentiles == {}  # a statistic set: no percentiles, as on AWS
    only_ms = reader.period_statistics("NS", "Latency", {"Api": "get"}, 600, 660, 60,
                                       unit="Milliseconds")  # fmt: skip
    assert [(s.sample_count, s.maximum, s.unit) for s in only_ms] == [(10, 10.0, "Milliseconds")]
    assert pooled[0].average == 155.0 / 11
    assert reader.period_statistics("NS", "Latency", {}, 600, 720, 60) == []
    store.close()
