"""The section registry: components declare their sections, ``logsieve.sections`` lists them.

A planted section stands for the next one (``[[sources]]``, ``[metrics]``): one parser written
with the shared walker and one ``Section`` are all it takes to be read, defaulted, overridden
by its environment variable and by a flag, and named in the unknown-section error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from logsieve.config import Config, ConfigError, Section, load_config
from logsieve.config_values import from_environment, number, read, section
from logsieve.sections import SECTIONS
from logsieve.subscriptions.settings import DELIVERY, DeliverySettings


@dataclasses.dataclass(frozen=True)
class MetricsSettings:
    period_seconds: float = 60.0


_CHECKS = {"period_seconds": partial(number, low=1, high=3600, hint="use e.g. 60")}


def _parse(path: Path, raw: Any) -> MetricsSettings:
    return MetricsSettings(**read(path, "[metrics]", section(path, "metrics", raw), _CHECKS))


def _environ(environ: Mapping[str, str], settings: MetricsSettings) -> MetricsSettings:
    text = environ.get("LOGSIEVE_METRICS_PERIOD", "")
    if not text:
        return settings
    period = from_environment(
        "LOGSIEVE_METRICS_PERIOD", text, lambda t: _CHECKS["period_seconds"](float(t))
    )
    return MetricsSettings(period)


METRICS: Section[MetricsSettings] = Section("metrics", _parse, MetricsSettings, environ=_environ)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logsieve.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_section_is_one_parser_and_one_registration(tmp_path: Path) -> None:
    path = write(tmp_path, "[metrics]\nperiod_seconds = 10\n")
    loaded = load_config(path, environ={}, sections=[METRICS])
    assert METRICS.of(loaded) == MetricsSettings(10)
    assert loaded.metrics == MetricsSettings(10)  # the untyped view reads the same value
    assert METRICS.of(load_config(write(tmp_path, ""), environ={}, sections=[METRICS])) == (
        MetricsSettings()
    )
    from_env = load_config(path, environ={"LOGSIEVE_METRICS_PERIOD": "30"}, sections=[METRICS])
    assert METRICS.of(from_env).period_seconds == 30
    flagged = load_config(
        path, {"metrics": MetricsSettings(5)}, environ={"LOGSIEVE_METRICS_PERIOD": "30"},
        sections=[METRICS],
    )  # fmt: skip
    assert METRICS.of(flagged).period_seconds == 5


def test_a_new_section_gets_the_walkers_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'period' in \[metrics\]; did you mean"):
        load_config(write(tmp_path, "[metrics]\nperiod = 1\n"), environ={}, sections=[METRICS])
    with pytest.raises(ConfigError, match=r"\[metrics\] period_seconds must be a number from 1"):
        load_config(
            write(tmp_path, "[metrics]\nperiod_seconds = 0\n"), environ={}, sections=[METRICS]
        )
    with pytest.raises(ConfigError, match=r"^environment variable LOGSIEVE_METRICS_PERIOD must"):
        load_config(environ={"LOGSIEVE_METRICS_PERIOD": "0"}, sections=[METRICS])


def test_only_the_sections_passed_are_known(tmp_path: Path) -> None:
    """Registration is the explicit list, not whatever was imported before."""
    path = write(tmp_path, "[delivery]\nlinger_seconds = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[delivery\]; valid sections are"):
        load_config(path, environ={})
    assert DELIVERY.of(load_config(path, environ={}, sections=SECTIONS)).linger_seconds == 1


def test_every_component_section_is_listed_once() -> None:
    keys = [known.key for known in SECTIONS]
    assert sorted(keys) == sorted(
        [
            "delivery", "storage", "firehose", "functions", "channels", "alerts", "sources",
            "console", "cluster",
        ]
    )  # fmt: skip
    fields = {f.name for f in dataclasses.fields(Config)}
    assert not fields & set(keys), "a section key would shadow a Config field"


def test_a_config_built_without_the_loader_has_defaults_through_of() -> None:
    assert DELIVERY.of(Config()) == DeliverySettings()
    with pytest.raises(AttributeError):
        Config().delivery  # noqa: B018 -- no sections known: the untyped view has none
