"""``run_demo``: start everything, set up the account, run the world, watch it work, stop.

The account is configured through the API as the README tells a user on AWS (``account``),
then the world follows it (``traffic``). Once the alarm is OK, the world's flood episode is
sent at a moment its alarm can see it (``alarm.flood_window``); the timed part is stretched,
up to a minute, until the alarm has gone to ALARM and back to OK, so every run shows the whole
cycle. Order matters for a clean end: the world stops first (and flushes what it batched), then
the demo waits -- briefly -- until every rule has caught up and every outbox item is out, so the
summary counts every alert the traffic caused; only then do the server, the SMTP catcher and the
Datadog receiver stop, in that order, whatever happened before (an ``ExitStack``). A first
Ctrl-C or SIGTERM ends the run this way; a second one skips the waiting.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from logsieve.config import endpoint_url, ensure_credentials
from logsieve.errors import ConfigError
from logsieve.shipping import Target
from logsieve.shipping.signals import graceful_stop

from . import datadir
from .account import Account, clients, set_up
from .alarm import AlarmWatch, Transition, flood_window
from .datadog_receiver import DatadogReceiver
from .democonfig import write_config
from .display import Display, Snapshot, make_display
from .latency import LatencyProbe
from .mailcatcher import MailCatcher
from .observe import Alert, Observer, RuleStatus
from .plan import EMAIL_TO, GROUPS, WATCHED_USERS, WorldPlan
from .server import ServerProcess, check_port, free_port
from .summary import SummaryFacts, shown, summary_lines

__all__ = ["DemoOptions", "run_demo"]

_TICK = 1.0  # seconds between screen refreshes
_DRAIN_TIMEOUT = 15.0  # at most this long waiting for the last alerts after the traffic stops
_RATE_WINDOW = 3.0  # events/s are averaged over this many seconds
_ALARM_WAIT = 60.0  # at most this long past --duration for the alarm to go ALARM and back


@dataclass(frozen=True)
class DemoOptions:
    duration: float = 60.0
    keep_running: bool = False
    data_dir: Path | None = None  # None: ./logsieve-demo
    port: int = 0  # 0: a free port
    rate: float = 1.0  # multiplies every source's events per second
    seed: int | None = None  # None: a random one (printed in the summary)


class _Rates:
    """Events per second per source over the last few seconds."""

    def __init__(self) -> None:
        self.history: deque[tuple[float, dict[str, int]]] = deque()

    def add(self, now: float, sent: dict[str, int]) -> dict[str, float]:
        self.history.append((now, sent))
        while len(self.history) > 2 and now - self.history[1][0] >= _RATE_WINDOW:
            self.history.popleft()
        then, before = self.history[0]
        span = now - then
        if span <= 0:
            return {}
        return {name: (count - before.get(name, 0)) / span for name, count in sent.items()}


class _Demo:
    """One run; ``run_demo`` owns its lifetime."""

    def __init__(self, options: DemoOptions, display: Display) -> None:
        self.options = options
        self.display = display
        self.stop = threading.Event()
        self.interrupted: str | None = None  # the signal that stopped the run early
        self.alerts: list[Alert] = []
        self.alerts_by_rule: Counter[str] = Counter()
        self.latencies: dict[str, list[int]] = {}
        self.rates = _Rates()
        self.started = time.monotonic()
        self.flooded_ms: int | None = None  # when the server had accepted the flood
        self.flood_index = 0  # the alarm's transitions seen before the flood
        self.alarm_latency_ms: int | None = None  # flood accepted -> ALARM email received

    # --- the parts --------------------------------------------------------------------------

    def run(self, stack: ExitStack) -> int:
        options = self.options
        data_dir = datadir.prepare(options.data_dir or datadir.DEFAULT_DIR)
        stack.callback(datadir.release, data_dir)
        self.seed = options.seed if options.seed is not None else secrets.randbelow(1_000_000)
        self.data_dir = data_dir
        self.maildir = data_dir / "mail"
        self.datadog_file = data_dir / "datadog-events.jsonl"
        self.server_log = data_dir / "server.log"

        mail = MailCatcher(self.maildir).start()
        stack.callback(mail.stop)
        api_key = secrets.token_hex(16)  # Datadog API keys are 32 hex characters
        receiver = DatadogReceiver(self.datadog_file, api_key).start()
        stack.callback(receiver.stop)
        self.receiver = receiver
        self.plan = WorldPlan.at(options.rate)
        self.groups = dict(GROUPS)
        if options.port:
            check_port(options.port)
        port = options.port or free_port()
        self.config_path, config, rules = write_config(
            data_dir, port, mail.url, receiver.url, api_key, self.groups
        )
        self.channel_of = rules.channel_of
        self.config, _ = ensure_credentials(config)
        self.credential = self.config.credentials[0]
        endpoint = endpoint_url(self.config)

        server = ServerProcess(self.config_path, data_dir, port, self.server_log)
        stack.callback(server.stop)  # runs before the receivers stop (LIFO)
        self.server = server
        self._intro(mail, receiver, endpoint)
        server.start()
        self.display.write([f"  server      up (pid {server.pid})", ""])

        target = Target(
            endpoint, self.config.region,
            self.credential.access_key_id, self.credential.secret_access_key,
        )  # fmt: skip
        client = clients(target)
        self.display.write(
            ["Setting up the account through the API, as the README shows it for AWS:"]
        )
        self.account: Account = set_up(
            client, self.plan, self.maildir, lambda line: self.display.write([f"  {line}"])
        )
        self.display.write([""])
        self.alarm = AlarmWatch(client("cloudwatch"), self.account.alarm)
        probe = LatencyProbe(target.client(), self.groups)
        self.observer = Observer(
            endpoint, self.credential, self.config.region, data_dir, self.maildir,
            self.datadog_file, probe,
        )  # fmt: skip
        stack.callback(self.observer.close)

        from .traffic import Traffic  # imports the world (and botocore) only when needed

        self.traffic = Traffic(target, self.plan, self.seed, self.stop)

        def on_signal(name: str) -> None:
            # Only note it: the handler runs between any two bytecodes of the main thread,
            # perhaps in the middle of a redraw; the loop reports it on its next turn.
            self.interrupted = name

        with graceful_stop(self.stop, on_signal):
            self.started = time.monotonic()
            self.traffic.start()
            self._watch_until(self.started + options.duration, "running")
            if self.interrupted:
                self.display.write(
                    [f"{self.interrupted}: stopping the traffic (again to quit at once)"]
                )
            self.stop.set()
            self.traffic.join()
            self._drain()
        failed = self._failures()
        still_running = options.keep_running and not self.interrupted and not failed
        self.display.close()
        self.display.write(summary_lines(self._facts(still_running)))
        if still_running:
            serving = threading.Event()
            with graceful_stop(serving):
                self._serve(serving)
            self.display.close()
            self.display.write(["Stopping the server."])
        for problem in failed:
            self.display.write([f"error: {problem}"])
        return 1 if failed else 0

    def _intro(self, mail: MailCatcher, receiver: DatadogReceiver, endpoint: str) -> None:
        rules_by_channel: dict[str, list[str]] = {}
        for rule, channel in self.channel_of.items():
            rules_by_channel.setdefault(channel, []).append(rule)
        plan = self.plan
        traffic = (
            f"simulate world: {plan.flow_rate:g} flow records/s, a VPN connection every "
            f"{plan.connect_every:g} s, {plan.trail_rate:g} CloudTrail events/s, then a "
            f"flood of {plan.flood:,} rejected flows"
        )
        duration = f"{self.options.duration:g} s"
        then = ", then keeps the server up" if self.options.keep_running else ""
        self.display.write(
            [
                "logsieve demo: the whole chain on this machine -- no AWS account, nothing "
                "leaves 127.0.0.1.",
                f"  data        {shown(self.data_dir)}/ (fresh for this run)",
                f"  server      {endpoint}  (logsieve serve --config "
                f"{shown(self.config_path)}; log: {shown(self.server_log)})",
                f"  email       {mail.url} -> Maildir {shown(self.maildir)}/",
                f"  Datadog     {receiver.url} -> {shown(self.datadog_file)}",
                f"  to email    {', '.join(rules_by_channel.get('email', []))} "
                f"(to {EMAIL_TO}; IAM users {', '.join(WATCHED_USERS)})",
                f"  to Datadog  {', '.join(rules_by_channel.get('datadog', []))}",
                f"  alarm       rejected-traffic-rate via SNS email (to {EMAIL_TO})",
                f"  traffic     {traffic} (seed {self.seed})",
                f"  runs        {duration}{then}; Ctrl-C stops it early",
            ]
        )

    # --- watching ---------------------------------------------------------------------------

    def _tick(self, phase: str, duration: float | None, force: bool = False) -> Snapshot:
        new = self.observer.new_alerts()
        for alert in new:
            self.alerts.append(alert)
            if alert.rule in self.channel_of:  # SNS emails (the alarm's) are shown apart
                self.alerts_by_rule[alert.rule] += 1
            if alert.latency_ms is not None:
                self.latencies.setdefault(alert.channel, []).append(alert.latency_ms)
        self.display.alerts(new)
        self._watch_alarm(new)
        counts = self.traffic.counts()
        rates = self.rates.add(time.monotonic(), {c.source: c.sent for c in counts})
        problems = list(self.traffic.errors)
        if not self.server.running():
            problems.append(f"the server exited; see {shown(self.server_log)}")
        if self.observer.status_error:
            problems.append(self.observer.status_error)
        if self.alarm.error:
            problems.append(self.alarm.error)
        if self.receiver.refused:
            problems.append(
                f"the Datadog receiver refused {len(self.receiver.refused)} events: "
                f"{self.receiver.refused[-1]}"
            )
        snap = Snapshot(
            elapsed=time.monotonic() - self.started,
            duration=duration,
            phase=phase,
            counts=counts,
            rates=rates,
            rules=self._rules(),
            channels=self.observer.channels(),
            alerts_by_rule=self.alerts_by_rule,
            channel_of=self.channel_of,
            latencies=self.latencies,
            problems=problems,
            alarm=f"{self.account.alarm} {self.alarm.state or '-'}"
            + (", flood sent" if self.flooded_ms is not None else ", flood not sent yet"),
        )
        self.display.update(snap, force)
        return snap

    def _watch_alarm(self, new: list[Alert]) -> None:
        """Show the alarm's transitions, send the flood when it can move the alarm, and time
        the ALARM email from the flood's acceptance."""
        for alert in new:
            if (
                alert.rule == self.account.alarm
                and alert.title.startswith("ALARM")
                and self.flooded_ms is not None
                and self.alarm_latency_ms is None
            ):
                self.alarm_latency_ms = max(0, alert.arrived_ms - self.flooded_ms)
        for change in self.alarm.poll():
            self.display.write([self._transition_line(change)])
        if (
            self.flooded_ms is None
            and self.alarm.state == "OK"
            and not self.stop.is_set()
            and flood_window(time.time())
        ):
            self.flood_index = len(self.alarm.transitions)
            sent = self.traffic.flood(self.plan.flood)
            self.flooded_ms = int(time.time() * 1000)
            at = datetime.now().strftime("%H:%M:%S")
            self.display.write(
                [
                    f"{self.display.dim(at)}  {'world':<7}  {'flood':<22}  "
                    + self.display.bold(
                        f"one address hammers port 22: {sent:,} rejected flows in one go"
                    )
                ]
            )

    def _transition_line(self, change: Transition) -> str:
        at = datetime.fromtimestamp(change.at_ms / 1000).strftime("%H:%M:%S")
        return (
            f"{self.display.dim(at)}  {'alarm':<7}  {change.alarm:<22}  "
            + self.display.bold(f"{change.old} -> {change.new}")
            + self.display.dim(f"  {change.reason}")
        )

    def _rules(self) -> list[RuleStatus]:
        """Every rule of the config in its order, with zeros until its log group exists."""
        found = {rule.rule: rule for rule in self.observer.rules()}
        return [
            found.get(name) or RuleStatus(name, "", 0, 0, "waiting", 0, None)
            for name in self.channel_of
        ]

    def _watch_until(self, deadline: float, phase: str) -> None:
        """Until ``deadline``, and past it (at most ``_ALARM_WAIT``) until the alarm has
        gone to ALARM and back to OK."""
        duration = self.options.duration
        next_tick = time.monotonic()
        latest = deadline + _ALARM_WAIT
        while not self.stop.is_set():
            now = time.monotonic()
            cycled = self.flooded_ms is not None and self.alarm.cycled(self.flood_index)
            if now >= latest or (now >= deadline and cycled):
                break
            if now >= deadline and phase == "running":
                phase = "waiting"
                self.display.write(
                    [
                        f"{duration:g} s done; running on until the alarm has gone to ALARM and "
                        f"back to OK since the flood (at most {_ALARM_WAIT:g} s more)"
                    ]
                )
            self._tick(phase, duration)
            if not self.server.running():
                self.stop.set()
                break
            next_tick += _TICK
            self.stop.wait(max(0.0, next_tick - time.monotonic()))

    def _drain(self) -> None:
        """Until every rule has read all events and every channel has sent everything."""
        deadline = time.monotonic() + _DRAIN_TIMEOUT
        while self.server.running():
            snap = self._tick("finishing", None)
            idle = all(rule.lag_events == 0 for rule in snap.rules) and all(
                channel.pending == 0 for channel in snap.channels.values()
            )
            if (idle and self.observer.status_error is None) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        self._tick("finishing", None, force=True)  # the last arrivals, and the final status

    def _serve(self, serving: threading.Event) -> None:
        """--keep-running: keep showing what arrives (the user's own events now) until
        Ctrl-C."""
        while not serving.is_set() and self.server.running():
            self._tick("serving", None)
            serving.wait(_TICK)

    def _failures(self) -> list[str]:
        failed = list(self.traffic.errors)
        if not self.server.running():
            failed.append(f"the server exited during the demo; see {shown(self.server_log)}")
        if self.receiver.refused:
            failed.append(
                f"the Datadog receiver refused {len(self.receiver.refused)} events, e.g. "
                f"{self.receiver.refused[0]}"
            )
        channels = self.observer.channels() if self.server.running() else {}
        for channel in channels.values():
            if channel.given_up:
                failed.append(
                    f"{channel.given_up} {channel.channel} alerts could not be delivered: "
                    f"{channel.last_error}"
                )
        return failed

    def _facts(self, still_running: bool) -> SummaryFacts:
        return SummaryFacts(
            elapsed=time.monotonic() - self.started,
            seed=self.seed,
            rate=self.options.rate,
            counts=self.traffic.counts(),
            groups=self.groups,
            rules=self._rules(),
            channel_of=self.channel_of,
            alerts_by_rule=self.alerts_by_rule,
            latencies=self.latencies,
            emails=sum(1 for a in self.alerts if a.channel == "email"),
            datadog_events=sum(1 for a in self.alerts if a.channel == "datadog"),
            data_dir=self.data_dir,
            maildir=self.maildir,
            datadog_file=self.datadog_file,
            config_path=self.config_path,
            server_log=self.server_log,
            config=self.config,
            credential=self.credential,
            still_running=still_running,
            setup=[
                f"flow log {self.account.flow_log_id} ({self.account.vpc_id}) -> "
                f"{self.groups['vpc-flow']}",
                f"Client VPN endpoint {self.account.endpoint_id}, connection logging -> "
                f"{self.groups['client-vpn']}",
                f"trail {self.account.trail_arn} -> {self.groups['cloudtrail']}",
                f"topic {self.account.topic_arn} (email {EMAIL_TO}, confirmed)",
            ],
            alarm=self.account.alarm,
            transitions=list(self.alarm.transitions),
            alarm_emails=[a.title for a in self.alerts if a.rule == self.account.alarm],
            alarm_latency_ms=self.alarm_latency_ms,
        )


def run_demo(options: DemoOptions, out: TextIO, tty: bool | None = None) -> int:
    """Run the demo, writing to ``out``; return the exit status (0: every part worked).

    Raises ConfigError (one line) when it cannot start: the data directory is not usable, the
    port is taken, the server does not come up.
    """
    if options.duration <= 0:
        raise ConfigError("--duration must be more than 0 seconds")
    if options.rate <= 0:
        raise ConfigError("--rate must be more than 0")
    display = make_display(out, tty)
    demo = _Demo(options, display)
    with ExitStack() as stack:
        try:
            return demo.run(stack)
        finally:
            demo.display.close()
