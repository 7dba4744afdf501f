"""The live view: alerts scroll by as they arrive, a status panel stays at the bottom.

On a terminal the panel (events sent per source and per second, matches and alerts per rule,
the outbox, latency) is redrawn in place about once a second with plain ANSI escapes, and each
alert is printed above it as a permanent line -- with the full rendered text for the first
alert of each rule, so the user sees what a recipient reads. When stdout is not a terminal
(a pipe, a log file, the tests) nothing is redrawn: alerts are printed as lines and the status
as one line every few seconds. ``NO_COLOR`` turns colours off.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from .latency import percentile
from .observe import Alert, ChannelStatus, RuleStatus
from .traffic import SourceCount

__all__ = ["Display", "Snapshot", "make_display"]

_PLAIN_STATUS_EVERY = 5.0  # seconds between status lines when not on a terminal
_FULL_TEXT_LINES = 16  # lines of a first alert's body shown in full


@dataclass
class Snapshot:
    """Everything the panel shows at one moment."""

    elapsed: float
    duration: float | None  # None once the timed part is over (--keep-running)
    phase: str  # "running" | "waiting" (for the alarm) | "finishing" | "serving"
    counts: list[SourceCount]
    rates: dict[str, float]  # source -> events/s over the last seconds
    rules: list[RuleStatus]
    channels: dict[str, ChannelStatus]
    alerts_by_rule: Counter[str]
    channel_of: dict[str, str]
    latencies: dict[str, list[int]]  # channel -> ms
    problems: list[str] = field(default_factory=list)
    alarm: str = ""  # the alarm's name and state


def _number(value: float) -> str:
    return f"{value:,.0f}"


def latency_text(values: Sequence[int]) -> str:
    if not values:
        return "-"
    return (
        f"p50 {percentile(values, 0.5):,.0f} ms, p95 {percentile(values, 0.95):,.0f} ms, "
        f"max {max(values):,.0f} ms ({len(values)} alerts)"
    )


class Display:
    """Plain lines; :class:`TerminalDisplay` redraws in place."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._next_status = time.monotonic() + _PLAIN_STATUS_EVERY
        self._shown_full: set[str] = set()
        self._last_status = ""

    # --- styling (none here) ---------------------------------------------------------------
    def bold(self, text: str) -> str:
        return text

    def dim(self, text: str) -> str:
        return text

    def tint(self, text: str, channel: str) -> str:
        return text

    # --- output ----------------------------------------------------------------------------
    def write(self, lines: Sequence[str]) -> None:
        """Permanent lines (above the panel on a terminal)."""
        self.out.write("".join(line + "\n" for line in lines))
        self.out.flush()

    def alert_lines(self, alert: Alert) -> list[str]:
        at = datetime.fromtimestamp(alert.arrived_ms / 1000).strftime("%H:%M:%S")
        latency = f"  ({alert.latency_ms:,} ms)" if alert.latency_ms is not None else ""
        lines = [
            f"{self.dim(at)}  {self.tint(f'{alert.channel:<7}', alert.channel)}  "
            f"{alert.rule:<22}  {self.bold(alert.title)}{self.dim(latency)}"
        ]
        if alert.rule not in self._shown_full:
            self._shown_full.add(alert.rule)
            body = alert.text.splitlines()
            shown = body[:_FULL_TEXT_LINES]
            if len(body) > len(shown):
                shown.append(f"... ({len(body) - len(shown)} more lines)")
            heading = f"first {alert.rule} alert in full, as the recipient reads it:"
            lines.append(self.dim(f"          | {heading}"))
            lines += [self.dim("          | ") + line for line in shown]
        return lines

    def alerts(self, alerts: Sequence[Alert]) -> None:
        lines = [line for alert in alerts for line in self.alert_lines(alert)]
        if lines:
            self.write(lines)

    def update(self, snap: Snapshot, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next_status:
            return
        self._next_status = now + _PLAIN_STATUS_EVERY
        sent = ", ".join(
            f"{c.source} {_number(c.sent)} ({_number(snap.rates.get(c.source, 0))}/s)"
            for c in snap.counts
        )
        matched = ", ".join(f"{r.rule} {_number(r.matched)}" for r in snap.rules) or "-"
        by_channel: Counter[str] = Counter()
        for rule, count in snap.alerts_by_rule.items():
            by_channel[snap.channel_of.get(rule, "?")] += count
        alerts = ", ".join(f"{n} {ch}" for ch, n in sorted(by_channel.items())) or "none yet"
        all_latencies = [v for values in snap.latencies.values() for v in values]
        latency = (
            f" | latency p50 {percentile(all_latencies, 0.5):,.0f} ms" if all_latencies else ""
        )
        alarm = f" | alarm {snap.alarm}" if snap.alarm else ""
        status = f"sent: {sent} | matched: {matched} | alerts: {alerts}{latency}{alarm}"
        if status == self._last_status and not snap.problems:
            return  # nothing new since the last line (the final forced one, say)
        self._last_status = status
        self.write(
            [f"[{snap.elapsed:4.0f} s] {status}"]
            + [f"warning: {problem}" for problem in snap.problems]
        )

    def close(self) -> None:
        pass


class TerminalDisplay(Display):
    def __init__(self, out: TextIO, color: bool) -> None:
        super().__init__(out)
        self.color = color
        self._panel_height = 0
        self._last_panel: list[str] = []
        self._pending: list[str] = []
        self.out.write("\x1b[?25l")  # hide the cursor while redrawing

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.color else text

    def dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.color else text

    def tint(self, text: str, channel: str) -> str:
        if not self.color:
            return text
        code = {"email": "36", "datadog": "35"}.get(channel, "33")
        return f"\x1b[{code}m{text}\x1b[0m"

    def write(self, lines: Sequence[str]) -> None:
        self._pending.extend(lines)
        self._flush_pending()

    def _flush_pending(self, panel: Sequence[str] | None = None) -> None:
        """Erase the panel, print the new permanent lines, draw the panel again."""
        parts = []
        if self._panel_height:
            parts.append(f"\x1b[{self._panel_height}F\x1b[J")
        parts += [line + "\n" for line in self._pending]
        self._pending.clear()
        if panel is None:
            panel = self._last_panel if self._panel_height else []
        parts += [line + "\n" for line in panel]
        self._panel_height = len(panel)
        self._last_panel = list(panel)
        self.out.write("".join(parts))
        self.out.flush()

    def update(self, snap: Snapshot, force: bool = False) -> None:
        self._flush_pending(self._panel(snap))

    def _panel(self, snap: Snapshot) -> list[str]:
        width = max(40, shutil.get_terminal_size((100, 24)).columns - 1)
        if snap.phase == "running" and snap.duration is not None:
            clock = f"{snap.elapsed:.0f} s of {snap.duration:g} s · Ctrl-C to stop"
        elif snap.phase == "waiting":
            clock = f"{snap.elapsed:.0f} s · waiting for the alarm's ALARM and OK · Ctrl-C to stop"
        elif snap.phase == "finishing":
            clock = f"{snap.elapsed:.0f} s · traffic stopped, delivering the last alerts"
        else:
            clock = f"{snap.elapsed:.0f} s · traffic stopped, server still up · Ctrl-C to stop"
        lines = [self.bold(f"── logsieve demo · {clock} ".ljust(width, "─"))]
        sent = "   ".join(
            f"{c.source} {_number(c.sent)} ({_number(snap.rates.get(c.source, 0))}/s)"
            for c in snap.counts
        )
        lines.append(f" events sent   {sent}")
        lines.append(self.dim(f" {'alert rule':<24}{'matched':>9}{'queued':>8}{'alerts':>8}  via"))
        for rule in snap.rules:
            lines.append(
                f" {rule.rule:<24}{_number(rule.matched):>9}{_number(rule.lag_events):>8}"
                f"{_number(snap.alerts_by_rule.get(rule.rule, 0)):>8}  "
                + self.tint(snap.channel_of.get(rule.rule, "?"), snap.channel_of.get(rule.rule, ""))
            )
        outbox = "   ".join(
            f"{name}: {_number(ch.sent)} sent, {_number(ch.pending)} waiting"
            + (f", {_number(ch.given_up)} given up" if ch.given_up else "")
            for name, ch in sorted(snap.channels.items())
        )
        lines.append(f" outbox        {outbox or '-'}")
        if snap.alarm:
            lines.append(f" alarm         {snap.alarm}")
        for channel, values in sorted(snap.latencies.items()):
            lines.append(f" latency       {channel:<8} {latency_text(values)}")
        if not snap.latencies:
            lines.append(" latency       - (event accepted by the server -> alert received)")
        lines += [f" warning: {problem}" for problem in snap.problems]
        return [_clip(line, width) for line in lines]

    def close(self) -> None:
        if self._panel_height:
            self._flush_pending([])  # the summary replaces the panel
        self.out.write("\x1b[?25h")
        self.out.flush()


def _clip(line: str, width: int) -> str:
    """Cut a panel line to the terminal width (escapes do not take columns): a wrapped line
    would throw the redraw off by a row."""
    visible, out, i = 0, [], 0
    while i < len(line):
        if line[i] == "\x1b":
            end = line.find("m", i)
            if end == -1:
                break
            out.append(line[i : end + 1])
            i = end + 1
            continue
        if visible >= width:
            out.append("\x1b[0m" if "\x1b" in line else "")
            break
        out.append(line[i])
        visible += 1
        i += 1
    return "".join(out)


def make_display(out: TextIO, tty: bool | None = None) -> Display:
    """The terminal display when ``out`` is a terminal (or ``tty`` says so), plain otherwise."""
    interactive = out.isatty() if tty is None else tty
    if not interactive or os.environ.get("TERM") == "dumb":
        return Display(out)
    return TerminalDisplay(out, color="NO_COLOR" not in os.environ)
