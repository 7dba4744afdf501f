"""Templates run in a sandbox, escape only in HTML, and fail loudly only where it helps."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.alerts.templates import RenderError, compile_template, render

from .helpers import T0, engine, event, payload, rules

CONTEXT = {"event": {"user": "alice"}, "message": "m", "timezone": "Asia/Tokyo", "now": T0}


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ event.__class__.__mro__[1].__subclasses__() }}",
        "{{ event.__init__.__globals__ }}",
        "{{ localtime.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ event.update({'user': 'mallory'}) }}",  # the event data is read-only
        "{{ 'x' * 1000000 }}",
        "{{ 10 ** 100000 }}",
    ],
)
def test_the_sandbox_refuses(source: str) -> None:
    with pytest.raises(RenderError, match=r"sandbox|unsafe|too large"):
        render(compile_template(source), CONTEXT)


def test_text_is_not_escaped_and_html_is() -> None:
    context = {**CONTEXT, "message": "<script>alert(1)</script> & co"}
    assert render(compile_template("{{ message }}"), context) == context["message"]
    html = render(compile_template("<p>{{ message }}</p>", html=True), context)
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>"


def test_missing_values_fail_when_printed_but_not_when_tested() -> None:
    with pytest.raises(RenderError, match="has no attribute 'usr'"):
        render(compile_template("{{ event.usr }}"), CONTEXT)
    lenient = (
        "{{ event.usr or '-' }} {{ event.a.b | default('none') }} {% if event.x %}x{% endif %}"
    )
    assert render(compile_template(lenient), CONTEXT) == "- none "


def test_helpers_use_the_rules_time_zone() -> None:
    source = "{{ now | localtime }} / {{ now | localtime('UTC', '%H:%M') }} / {{ now | ago }}"
    assert render(compile_template(source), CONTEXT) == (
        "2025-03-10 23:00:00 JST / 14:00 / just now"
    )
    assert render(compile_template("{{ duration(7500) }} {{ 1200000 | bytes }}"), CONTEXT) == (
        "2 h 5 min 1.2 MB"
    )


def test_a_template_failing_on_an_event_still_alerts_with_the_raw_event(tmp_path: Path) -> None:
    rule_set = rules({"name": "r", "title": "{{ event.user.name }} did it"})
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    alerts.handle("r", payload([event("plain text line", T0, "e1")]))
    (notification,) = outbox.notifications
    assert notification.title == "r: plain text line"
    assert notification.text.startswith("[logsieve: the rule's template failed (title: ")
    assert "plain text line" in notification.text


def test_body_html_is_rendered_with_escaping(tmp_path: Path) -> None:
    rule_set = rules({"name": "r", "body_html": "<b>{{ message }}</b>"})
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    alerts.handle("r", payload([event("a < b", T0, "e1")]))
    (notification,) = outbox.notifications
    assert notification.html == "<b>a &lt; b</b>"
    assert "a < b" in notification.text
