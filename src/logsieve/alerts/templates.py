"""Jinja2 templates for alert messages, rendered in a sandbox.

Templates come from a config file, so they run in Jinja2's ``ImmutableSandboxedEnvironment``:
no access to ``__class__`` and friends, no mutation of the event data, bounded ``range`` and
(added here) bounded ``*``/``**`` and output size. Text renders without escaping; the HTML
rendering (``body_html``) autoescapes every value.

Undefined values are strict where it catches mistakes and lenient where it helps: printing a
missing field fails (``{{ event.usrname }}`` is a typo, not an empty string), while tests,
``or`` and ``default`` work (``{{ event.username or "-" }}``). Syntax errors and unknown names
are reported when the config loads (:func:`check_template`), with the line number.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined, meta, pass_context
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.nodes import Template as TemplateNode
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import helpers

__all__ = [
    "CONTEXT_NAMES",
    "MAX_BODY",
    "MAX_TITLE",
    "RenderError",
    "TemplateProblem",
    "check_template",
    "compile_template",
    "environment",
    "render",
]

MAX_TITLE = 250  # Datadog caps titles at 100 visible characters; email subjects ~ 250
MAX_BODY = 60_000  # under Slack's 40k-per-text and Datadog's 4k limits after channel trimming
MAX_SEQUENCE = 100_000  # longest string or list a template may build with * / **

#: Names every rendering gets (see logsieve.alerts.template_context); others are typos.
CONTEXT_NAMES = frozenset(
    {
        # one event
        "event",
        "fields",
        "flow",
        "trail",
        "vpn",
        "message",
        "timestamp",
        "log_group",
        "log_stream",
        "event_id",
        "summary",
        # the rule and the moment
        "rule",
        "description",
        "severity",
        "timezone",
        "now",
        # aggregates (digests, thresholds, distinct counts; one event otherwise)
        "count",
        "events",
        "first",
        "last",
        "window",
        "group",
        "top",
        "top_keys",
        "distinct_count",
        "values",
    }
)


class TemplateProblem(Exception):
    """A template that cannot work: ``problem`` and ``hint`` for a one-line ConfigError."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


class RenderError(Exception):
    """A template failed on this event's data (a missing field, a type error...)."""


class FriendlyUndefined(ChainableUndefined):
    """Lenient in tests and chains, strict when printed (see the module docstring)."""

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()
        return ""  # unreachable: the call above raises

    __iter__ = Undefined.__iter__  # ChainableUndefined's iter yields nothing too; be explicit


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox plus limits on the two operators that can allocate without bound."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, op: str, left: Any, right: Any) -> Any:
        if op == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * times > MAX_SEQUENCE
                ):
                    raise SecurityError("the result of '*' is too large for a message")
            return operator.mul(left, right)
        if op == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("the exponent of '**' is too large for a message")
            return operator.pow(left, right)
        return super().call_binop(context, op, left, right)


# --- filters and functions --------------------------------------------------------------------


def _tz(context: Context, tz: str | None) -> str | None:
    return tz if tz else context.get("timezone")


@pass_context
def _localtime(
    context: Context, value: Any, tz: str | None = None, fmt: str = helpers.DEFAULT_TIME_FORMAT
) -> str:
    return helpers.format_time(value, _tz(context, tz), fmt)


@pass_context
def _datetime(
    context: Context, value: Any, fmt: str = helpers.DEFAULT_TIME_FORMAT, tz: str | None = None
) -> str:
    return helpers.format_time(value, _tz(context, tz), fmt)


@pass_context
def _ago(context: Context, value: Any) -> str:
    return helpers.ago(value, context.get("now"))


_HELPERS: dict[str, Any] = {
    "localtime": _localtime,
    "datetime": _datetime,
    "duration": helpers.format_duration,
    "bytes": helpers.format_bytes,
    "number": helpers.format_number,
    "protocol_name": helpers.protocol_name,
    "ago": _ago,
}


def _make(autoescape: bool) -> _Sandbox:
    env = _Sandbox(
        autoescape=autoescape,
        undefined=FriendlyUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters.update(_HELPERS)
    env.globals.update(_HELPERS)
    return env


_ENVIRONMENTS: dict[bool, _Sandbox] = {}


def environment(html: bool = False) -> _Sandbox:
    """The shared sandbox: text (no escaping) or HTML (autoescape)."""
    env = _ENVIRONMENTS.get(html)
    if env is None:
        env = _ENVIRONMENTS[html] = _make(html)
    return env


def is_template(text: str) -> bool:
    """Keys such as ``top_keys`` take a field name or a template; ``{`` marks a template."""
    return "{{" in text or "{%" in text


def compile_template(text: str, html: bool = False) -> Any:
    """A compiled ``jinja2.Template`` (raises TemplateSyntaxError)."""
    return environment(html).from_string(text)


def _known_names(html: bool) -> frozenset[str]:
    env = environment(html)
    return CONTEXT_NAMES | frozenset(env.globals)


def _dry_context() -> dict[str, Any]:
    """Plausible empty values for every name, to find sandbox violations at load time."""
    event: dict[str, Any] = {"message": "", "timestamp": 0, "fields": {}}
    return {
        **{name: None for name in CONTEXT_NAMES},
        "event": {},
        "fields": {},
        "message": "",
        "timestamp": 0,
        "count": 1,
        "events": [event],
        "first": event,
        "last": event,
        "window": {"start": 0, "end": 0, "seconds": 0},
        "top": lambda key, n=5: [],
        "top_keys": (),
        "values": [],
        "timezone": "UTC",
    }


def check_template(text: str, html: bool = False, field_ok: bool = False) -> None:
    """Raise TemplateProblem for a syntax error, an unknown name or a sandbox violation.

    ``field_ok``: plain text is a field name (``top_keys``, ``distinct.key``), not a template.
    """
    if field_ok and not is_template(text):
        return
    env = environment(html)
    try:
        tree: TemplateNode = env.parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"has a template syntax error on line {exc.lineno}: {exc.message}",
            "fix the Jinja2 syntax there ({{ value }}, {% if %}...{% endif %})",
        ) from None
    known = _known_names(html)
    for name in sorted(meta.find_undeclared_variables(tree)):
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            did_you_mean = f"did you mean {close[0]!r}? " if close else ""
            raise TemplateProblem(
                f"uses the unknown name {name!r}",
                f"{did_you_mean}templates can use event, fields, flow, trail, vpn, message, "
                "timestamp, log_group, log_stream, rule, count, events, top, first, last, window",
            )
    try:
        env.from_string(tree).render(_dry_context())
    except SecurityError as exc:
        raise TemplateProblem(
            f"is refused by the template sandbox: {exc}",
            "templates may read event data but not Python internals (names starting with _)",
        ) from None
    except Exception:  # data-dependent failures show up when events are rendered
        pass


def render(template: Any, context: Mapping[str, Any], limit: int = MAX_BODY) -> str:
    """Render, turning every failure into RenderError with a readable reason."""
    try:
        text = template.render(context)
    except SecurityError as exc:
        raise RenderError(f"refused by the sandbox: {exc}") from None
    except TemplateError as exc:
        raise RenderError(f"line {_line(exc)}: {exc.message or exc}") from None
    except Exception as exc:  # any template bug must not lose the alert
        raise RenderError(f"{type(exc).__name__}: {exc}") from None
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _line(exc: TemplateError) -> str:
    line = getattr(exc, "lineno", None)
    return str(line) if line else "?"
