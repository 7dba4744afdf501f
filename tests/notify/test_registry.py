"""The channel registry: one module per channel type, one line to register it."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Collection
from pathlib import Path

import pytest

from logsieve.errors import ConfigError
from logsieve.notify.channels import build_channels, register_channels, send_notification
from logsieve.notify.channels.base import ChannelConfig
from logsieve.notify.channels.registry import CHANNEL_TYPES, own_keys
from logsieve.notify.config import parse_channels
from logsieve.notify.datadog import DatadogChannel
from logsieve.notify.message import Notification
from logsieve.notify.outbox import Outbox
from logsieve.notify.policy import DeliveryPolicy
from logsieve.notify.slack import SlackChannel
from logsieve.notify.webhook import WebhookChannel
from tests.notify import ticket_channel
from tests.notify.conftest import running
from tests.waiting import wait_for

P = Path("/srv/logsieve.toml")
NOTE = Notification(title="root login", text="from 198.51.100.4", severity="critical")
NOTIFY = Path(__file__).parents[2] / "src" / "logsieve" / "notify"


@pytest.fixture
def ticket(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one registry line a new channel type needs."""
    monkeypatch.setitem(CHANNEL_TYPES, "ticket", ticket_channel)
    ticket_channel.FILED.clear()


def error(raw: list[dict[str, object]]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_channels(P, raw)
    return str(caught.value)


def test_a_registered_module_is_a_channel_type_end_to_end(ticket: None, tmp_path: Path) -> None:
    [config] = parse_channels(P, [{"name": "sec", "type": "ticket", "queue": " SEC "}])
    assert isinstance(config, ticket_channel.TicketConfig)
    assert (config.queue, config.priority, config.rate_per_minute) == ("SEC", 3, 6.0)
    built = build_channels((config,), None, "a@b.c", "http://127.0.0.1:4588", "us-east-1", None)
    assert built["sec"].policy == DeliveryPolicy(rate_per_second=0.1)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    register_channels(outbox, built)
    with running(outbox):
        assert send_notification(outbox, "sec", NOTE, key="k1")
        wait_for(lambda: ticket_channel.FILED, what="the ticket")
    assert ticket_channel.FILED == [("sec", "SEC", NOTE)]
    outbox.close()


def test_a_registered_module_gets_every_config_message(ticket: None) -> None:
    types = ", ".join(CHANNEL_TYPES)
    assert types.endswith("apprise, ticket")
    assert f"type must be one of {types} (got \"tiket\"); did you mean 'ticket'?" in error(
        [{"name": "x", "type": "tiket"}]
    )
    assert "(type ticket) is missing queue; add queue" in error([{"name": "x", "type": "ticket"}])
    assert "priority must be 1 to 5 (got 9); write priority = 2" in error(
        [{"name": "x", "type": "ticket", "queue": "Q", "priority": 9}]
    )
    assert (
        "valid keys for ticket are name, type, rate_per_minute, retry_seconds, queue, "
        "priority, token" in error([{"name": "x", "type": "ticket", "queue": "Q", "url": "u"}])
    )
    assert "key 'queue' does not apply to type slack (it is for ticket)" in error(
        [{"name": "x", "type": "slack", "webhook_url": "https://h", "queue": "Q"}]
    )
    assert "did you mean 'priority'?" in error(
        [{"name": "x", "type": "ticket", "queue": "Q", "priorty": 1}]
    )
    [config] = parse_channels(P, [{"name": "x", "type": "ticket", "queue": "Q", "token": "t0k"}])
    assert "t0k" not in repr(config)


@pytest.mark.parametrize("name", list(CHANNEL_TYPES))
def test_every_type_checks_exactly_its_keys(name: str) -> None:
    channel_type = CHANNEL_TYPES[name]
    assert issubclass(channel_type.CONFIG, ChannelConfig)
    assert set(channel_type.CHECKS) == set(own_keys(channel_type))
    assert channel_type.DEFAULT_RATE_PER_MINUTE is None or channel_type.DEFAULT_RATE_PER_MINUTE > 0
    assert dataclasses.is_dataclass(channel_type.CONFIG)


def test_channels_declare_their_policy() -> None:
    policy = DeliveryPolicy(rate_per_second=2.0, retry_base=0.5)
    made = [
        SlackChannel("s", "https://hooks.example/x", policy=policy),
        WebhookChannel("w", "https://example.com/h", policy=policy),
        DatadogChannel("d", "key", policy=policy),
    ]
    assert [channel.policy for channel in made] == [policy] * 3
    assert SlackChannel("s", "https://hooks.example/x").policy == DeliveryPolicy()


def _imports(path: Path, module: str, modules: Collection[str]) -> set[str]:
    """The modules among ``modules`` that ``path`` imports, at any depth in the file
    (``TYPE_CHECKING`` blocks and imports inside functions included)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            submodules = {f"{target}.{alias.name}" for alias in node.names}
            found.update(submodules & set(modules))
            if not submodules <= set(modules):  # names defined in the module itself
                found.add(target)
    return found & set(modules)


def test_notify_has_no_import_cycle() -> None:
    modules: dict[str, Path] = {}
    for path in NOTIFY.rglob("*.py"):
        parts = path.relative_to(NOTIFY.parent.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: _imports(path, name, modules.keys()) for name, path in modules.items()}

    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = " -> ".join((*trail[trail.index(name) :], name))
            raise AssertionError(f"import cycle: {cycle}")
        if name not in done:
            for target in sorted(graph[name]):
                visit(target, (*trail, name))
            done.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_severities_are_defined_once() -> None:
    from logsieve.alerts.config import SEVERITIES as alert_severities
    from logsieve.notify.message import SEVERITIES

    assert alert_severities is SEVERITIES
