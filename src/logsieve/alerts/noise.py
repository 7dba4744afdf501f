"""Noise control: per-event alerts, dedup keys, digests, thresholds and distinct counts.

The decisions only; :class:`Processor` works on an
:class:`~logsieve.storage.alert_state.AlertStateStore` and returns
:class:`Decision` objects (an idempotency key and a rendered notification). The engine
(:mod:`.engine`) owns the transaction, the hand-over to the outbox and the clock; a dry run
(``logsieve alerts test``) uses the same Processor over an in-memory store, so what it shows
is what the live path would send.

Windows run on event time (the log event's timestamp), so a replay of last week's logs is
summarised as it would have been live: a digest window opens at its first event and closes
when an event beyond its end arrives, or, on the wall clock, when it has been open for its
length (the engine's ``tick``). Thresholds and distinct counts slide over the last ``window``
of event time and, once they alert, stay quiet until that window has passed.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from logsieve.formats import vpc_flow
from logsieve.notify.message import Notification
from logsieve.patterns import compile as compile_pattern
from logsieve.storage.alert_state import AlertStateStore

from .config import AlertRule
from .template_context import StoredEvent, aggregate_context, event_context, lookup, sorted_values
from .templates import MAX_TITLE, RenderError, compile_template, is_template, render

__all__ = ["CompiledRule", "Decision", "Processor"]

log = logging.getLogger(__name__)

SAMPLE_SIZE = 10  # events kept per window for ``events`` in templates
TOP_LIMIT = 500  # distinct values counted exactly per top key and window
_TRAILING_SPACE_RE = re.compile(r"[ \t]+\n")
_BLANK_RUN_RE = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Templates with optional lines leave blank runs and trailing spaces; messages should not."""
    text = _TRAILING_SPACE_RE.sub("\n", text)
    return _BLANK_RUN_RE.sub("\n\n", text).strip("\n")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class RuleKey:
    """A rule key that is a field name or a template, evaluated against an event context."""

    def __init__(self, rule: str, name: str, text: str) -> None:
        self.rule, self.name, self.text = rule, name, text
        self.template = compile_template(text) if is_template(text) else None

    def __call__(self, context: Mapping[str, Any]) -> str | None:
        if self.template is None:
            return lookup(context, self.text)
        try:
            value = render(self.template, context, limit=1000).strip()
        except RenderError as exc:
            log.debug("event=alert_key_failed rule=%s key=%s error=%r", self.rule, self.name, exc)
            return None
        return value or None


class CompiledRule:
    """One rule, compiled: its pattern, templates and keys."""

    def __init__(self, rule: AlertRule) -> None:
        self.rule = rule
        self.name = rule.name
        self.pattern = compile_pattern(rule.pattern)
        self.flow_format = (
            vpc_flow.FlowLogFormat.from_string(rule.flow_format)
            if rule.flow_format
            else vpc_flow.DEFAULT
        )
        self.title = compile_template(rule.title)
        self.body = compile_template(rule.body)
        self.body_html = compile_template(rule.body_html, html=True) if rule.body_html else None
        self.digest_title = compile_template(rule.digest_title)
        self.digest_body = compile_template(rule.digest_body)
        self.tags = [compile_template(tag) for tag in rule.tags]
        self.dedup = RuleKey(rule.name, "dedup_key", rule.dedup_key) if rule.dedup_key else None
        self.digest_group = (
            RuleKey(rule.name, "digest_group_by", rule.digest_group_by)
            if rule.digest_group_by
            else None
        )
        self.top_keys = {key: RuleKey(rule.name, "top_keys", key) for key in rule.top_keys}
        aggregate = rule.threshold or rule.distinct
        self.group = (
            RuleKey(rule.name, "group_by", aggregate.group_by)
            if aggregate is not None and aggregate.group_by
            else None
        )
        self.distinct_key = (
            RuleKey(rule.name, "distinct.key", rule.distinct.key) if rule.distinct else None
        )
        self._values: dict[str, RuleKey] = {}

    def context(self, stored: StoredEvent, now_ms: int) -> dict[str, Any]:
        context = event_context(stored, self.flow_format)
        context.update(
            rule=self.name,
            description=self.rule.description,
            severity=self.rule.severity,
            timezone=self.rule.timezone,
            now=now_ms,
        )
        return context

    def value_of(self, key: str, context: Mapping[str, Any]) -> str | None:
        """``top(key)`` in templates: a field name or a template, compiled once."""
        compiled = self.top_keys.get(key) or self._values.get(key)
        if compiled is None:
            if len(self._values) > 100:  # templates may build keys; keep the cache bounded
                self._values.clear()
            compiled = self._values[key] = RuleKey(self.name, "top", key)
        return compiled(context)


@dataclasses.dataclass
class Decision:
    key: str  # idempotency key without the channel
    notification: Notification


class Processor:
    """The noise-control logic over one AlertStateStore; shared by live handling and dry runs."""

    def __init__(self, rules: Mapping[str, CompiledRule], store: AlertStateStore) -> None:
        self.rules = rules
        self.store = store
        self.suppressed: collections.Counter[str] = collections.Counter()  # dedup hits per rule

    # -- rendering -------------------------------------------------------------------------
    def _render(
        self,
        rule: CompiledRule,
        kind: str,
        context: dict[str, Any],
        group: str | None,
        aggregation: str | None,
    ) -> Notification:
        digest = kind == "digest"
        title_t, body_t = (
            (rule.digest_title, rule.digest_body) if digest else (rule.title, rule.body)
        )
        failed: list[str] = []

        def attempt(template: Any, key: str, fallback: str, limit: int | None = None) -> str:
            try:
                return render(template, context, *(() if limit is None else (limit,)))
            except RenderError as exc:
                failed.append(f"{key}: {exc}")
                log.warning(
                    "event=alert_template_failed rule=%s template=%s error=%r",
                    rule.name,
                    key,
                    str(exc),
                )
                return fallback

        message = str(context.get("message", ""))
        summary = f"{context.get('count')} matches" if kind != "event" else message
        title = attempt(
            title_t, "digest_title" if digest else "title", f"{rule.name}: {summary[:120]}"
        )
        title = " ".join(title.split())[:MAX_TITLE]
        body = _tidy(attempt(body_t, "digest_body" if digest else "body", message))
        if failed:
            body = f"[logsieve: the rule's template failed ({'; '.join(failed)})]\n\n{body}"
        html = None
        if rule.body_html is not None and not digest:
            html = attempt(rule.body_html, "body_html", "") or None
        tags = [f"rule:{rule.name}"]
        for number, template in enumerate(rule.tags):
            tag = attempt(template, f"tags[{number}]", "").strip()
            if tag:
                tags.append(tag)
        fields: dict[str, Any] = {
            "rule": rule.name,
            "kind": kind,
            "log_group": context.get("log_group"),
            "log_stream": context.get("log_stream"),
            "count": context.get("count"),
        }
        if kind == "event":
            fields["event_id"] = context.get("event_id")
            fields["message"] = message[:4000]
        if group:
            fields["group"] = group
        window = context.get("window")
        if window:
            fields["window_start"] = window["start"]
            fields["window_end"] = window["end"]
        first = context.get("first") or context
        return Notification(
            title=title,
            text=body,
            severity=rule.rule.severity,
            source=rule.name,
            timestamp=int(first.get("timestamp") or 0),
            html=html,
            tags=tuple(tags),
            aggregation_key=f"{rule.name}:{aggregation}" if aggregation else rule.name,
            fields=fields,
        )

    # -- one event ---------------------------------------------------------------------------
    def process(self, rule: CompiledRule, stored: StoredEvent, now: int) -> list[Decision]:
        context = rule.context(stored, now)
        t = stored.timestamp
        dedup_value = None
        if rule.dedup is not None:
            dedup_value = rule.dedup(context)
            if dedup_value is not None:
                window_ms = int(rule.rule.dedup_window * 1000)
                previous = self.store.dedup_get(rule.name, dedup_value)
                if previous is not None and abs(t - previous) < window_ms:
                    self.suppressed[rule.name] += 1
                    return []  # the same alert was already sent within the window
                self.store.dedup_put(rule.name, dedup_value, t, now + window_ms)
        mode = rule.rule.mode
        if mode == "threshold":
            return self._threshold(rule, stored, context, now)
        if mode == "distinct":
            return self._distinct(rule, stored, context, now)
        if rule.rule.digest_window is not None:
            return self._digest(rule, stored, context, now)
        return [self._immediate(rule, stored, context, None, dedup_value)]

    def _immediate(
        self,
        rule: CompiledRule,
        stored: StoredEvent,
        context: dict[str, Any],
        group: str | None,
        aggregation: str | None,
    ) -> Decision:
        full = aggregate_context(
            context,
            count=1,
            events=[context],
            window=None,
            group=group,
            value_of=rule.value_of,
            top_keys=rule.rule.top_keys,
        )
        notification = self._render(rule, "event", full, group, aggregation)
        return Decision(f"{rule.name}/event/{stored.id}", notification)

    # -- digests ---------------------------------------------------------------------------------
    def _digest(
        self, rule: CompiledRule, stored: StoredEvent, context: dict[str, Any], now: int
    ) -> list[Decision]:
        group = (rule.digest_group(context) or "") if rule.digest_group else ""
        window_ms = int((rule.rule.digest_window or 0) * 1000)
        state = self.store.window_get(rule.name, "digest", group)
        decisions: list[Decision] = []
        t = stored.timestamp
        if state is not None and t >= state["end"]:
            # Event time moved past the window (a replay, or a quiet period): close it first.
            decisions += self.close_digest(rule, group, state, now)
            state = None
        if state is None:
            state = {
                "start": t,
                "end": t + window_ms,
                "due": now + window_ms,
                "count": 0,
                "first": None,
                "last": None,
                "sample": [],
                "tops": {},
            }
            self.store.window_put(rule.name, "digest", group, state, state["due"], now)
            decisions.append(self._immediate(rule, stored, context, group or None, group))
            return decisions
        event = stored.to_json()
        state["count"] += 1
        if state["first"] is None or t < state["first"]["timestamp"]:
            state["first"] = event
        if state["last"] is None or t >= state["last"]["timestamp"]:
            state["last"] = event
        if len(state["sample"]) < SAMPLE_SIZE:
            state["sample"].append(event)
        for key, compute in rule.top_keys.items():
            value = compute(context)
            if value is None:
                continue
            counts = state["tops"].setdefault(key, {})
            if value not in counts and len(counts) >= TOP_LIMIT:
                value = "(other)"
            counts[value] = counts.get(value, 0) + 1
        self.store.window_put(rule.name, "digest", group, state, state["due"], now)
        return decisions

    def close_digest(
        self, rule: CompiledRule, group: str, state: Mapping[str, Any], now: int
    ) -> list[Decision]:
        """The follow-up of a digest window (nothing when no further event came); the caller
        deletes or replaces the window."""
        self.store.window_delete(rule.name, "digest", group)
        if not state["count"]:
            return []
        sample = [rule.context(StoredEvent.from_json(e), now) for e in state["sample"]]
        last = rule.context(StoredEvent.from_json(state["last"]), now)
        first = rule.context(StoredEvent.from_json(state["first"]), now)
        window = {
            "start": state["start"],
            "end": state["end"],
            "seconds": (state["end"] - state["start"]) / 1000,
        }
        context = aggregate_context(
            last,
            count=state["count"],
            events=sample,
            window=window,
            group=group or None,
            value_of=rule.value_of,
            counters=state["tops"],
            top_keys=rule.rule.top_keys,
        )
        context.update(first=first, last=last)
        notification = self._render(rule, "digest", context, group or None, group)
        key = f"{rule.name}/digest/{_hash(group)}/{state['start']}"
        return [Decision(key, notification)]

    # -- thresholds ------------------------------------------------------------------------------
    def _threshold(
        self, rule: CompiledRule, stored: StoredEvent, context: dict[str, Any], now: int
    ) -> list[Decision]:
        spec = rule.rule.threshold
        assert spec is not None
        group = (rule.group(context) or "") if rule.group else ""
        window_ms = int(spec.window * 1000)
        state = self.store.window_get(rule.name, "threshold", group) or {}
        t = stored.timestamp
        expires = now + 2 * window_ms + 3_600_000
        quiet_until = state.get("quiet_until")
        if quiet_until is not None and t < quiet_until:
            # Inside the window that already alerted: counted there, not alerted again.
            self.store.window_put(rule.name, "threshold", group, state, None, expires)
            return []
        if quiet_until is not None:
            state = {}
        times: list[int] = state.get("times", [])
        sample: list[dict[str, Any]] = state.get("sample", [])
        bisect.insort(times, t)
        sample.append(stored.to_json())
        newest = times[-1]
        times = [x for x in times if x > newest - window_ms]  # the window (newest - T, newest]
        sample = [e for e in sample if e["timestamp"] > newest - window_ms][-SAMPLE_SIZE:]
        if len(times) < spec.count:
            state = {"times": times, "sample": sample}
            self.store.window_put(rule.name, "threshold", group, state, None, expires)
            return []
        start = times[0]
        window = {"start": start, "end": start + window_ms, "seconds": spec.window}
        decisions = self._aggregate_alert(
            rule, "threshold", stored, sample, len(times), window, group, None, now
        )
        state = {"quiet_until": start + window_ms}
        self.store.window_put(rule.name, "threshold", group, state, None, expires)
        return decisions

    def _aggregate_alert(
        self,
        rule: CompiledRule,
        kind: str,
        stored: StoredEvent,
        sample: Sequence[Mapping[str, Any]],
        count: int,
        window: dict[str, Any],
        group: str,
        values: Sequence[str] | None,
        now: int,
    ) -> list[Decision]:
        base = rule.context(stored, now)
        events = [rule.context(StoredEvent.from_json(e), now) for e in sample]
        context = aggregate_context(
            base,
            count=count,
            events=events,
            window=window,
            group=group or None,
            value_of=rule.value_of,
            top_keys=rule.rule.top_keys,
            values=values,
        )
        notification = self._render(rule, kind, context, group or None, group)
        return [Decision(f"{rule.name}/{kind}/{_hash(group)}/{window['start']}", notification)]

    # -- distinct counts ---------------------------------------------------------------------------
    def _distinct(
        self, rule: CompiledRule, stored: StoredEvent, context: dict[str, Any], now: int
    ) -> list[Decision]:
        spec = rule.rule.distinct
        assert spec is not None and rule.distinct_key is not None
        value = rule.distinct_key(context)
        if value is None:
            return []
        group = (rule.group(context) or "") if rule.group else ""
        window_ms = int(spec.window * 1000)
        state = self.store.window_get(rule.name, "distinct", group) or {}
        t = stored.timestamp
        expires = now + 2 * window_ms + 3_600_000
        quiet_until = state.get("quiet_until")
        if quiet_until is not None and t < quiet_until:
            return []
        if quiet_until is not None:
            state = {}
        # value -> [first ms, last ms, matches]; sample: value -> its latest event
        seen: dict[str, list[int]] = state.get("values", {})
        sample: dict[str, dict[str, Any]] = state.get("sample", {})
        span = seen.get(value)
        seen[value] = [min(span[0], t), max(span[1], t), span[2] + 1] if span else [t, t, 1]
        if value in sample:
            if t >= sample[value]["timestamp"]:
                sample[value] = stored.to_json()
        elif len(sample) < SAMPLE_SIZE:
            sample[value] = stored.to_json()
        newest = max(span[1] for span in seen.values())
        seen = {v: span for v, span in seen.items() if span[1] > newest - window_ms}
        sample = {v: event for v, event in sample.items() if v in seen}
        matches = sum(span[2] for span in seen.values())
        if len(seen) < spec.count:
            state = {"values": seen, "sample": sample}
            self.store.window_put(rule.name, "distinct", group, state, None, expires)
            return []
        start = min(span[0] for span in seen.values())
        window = {"start": start, "end": start + window_ms, "seconds": spec.window}
        events = sorted(sample.values(), key=lambda event: event["timestamp"])
        decisions = self._aggregate_alert(
            rule, "distinct", stored, events, matches, window, group, sorted_values(seen), now
        )
        self.store.window_put(
            rule.name, "distinct", group, {"quiet_until": start + window_ms}, None, expires
        )
        return decisions
