"""The closing summary: what was sent, what alerted, where to read it, how to go on.

Every path and command in it is meant to be copied: the Maildir opens in ``mutt -f`` (or with
the printed ``python -c`` line on any machine with Python), the Datadog events print with
``python -m json.tool --json-lines``, and the credential lines are ``credential_help``'s, the
same ``logsieve serve`` prints.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from logsieve.config import Config, Credential, credential_help, endpoint_url

from .alarm import Transition
from .display import latency_text
from .observe import RuleStatus
from .traffic import SourceCount

__all__ = ["PROFILE", "SummaryFacts", "shown", "summary_lines"]

# The demo's own aws CLI profile: pasting its lines must not overwrite the ``logsieve`` profile
# a real server's lines set up (the demo's key pair and port change on every run).
PROFILE = "logsieve-demo"


def shown(path: Path) -> str:
    """A path as the user should type it: relative when it is under the current directory."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else "."


@dataclass(frozen=True)
class SummaryFacts:
    elapsed: float
    seed: int
    rate: float
    counts: list[SourceCount]
    groups: dict[str, str]  # source -> log group
    rules: list[RuleStatus]
    channel_of: dict[str, str]  # rule -> channel
    alerts_by_rule: Counter[str]
    latencies: dict[str, list[int]]  # channel -> ms
    emails: int
    datadog_events: int
    data_dir: Path
    maildir: Path
    datadog_file: Path
    config_path: Path
    server_log: Path
    config: Config
    credential: Credential
    still_running: bool
    setup: list[str] = field(default_factory=list)  # what the account was given, one a line
    alarm: str = ""
    transitions: list[Transition] = field(default_factory=list)
    alarm_emails: list[str] = field(default_factory=list)  # their subjects, as received
    alarm_latency_ms: int | None = None  # flood accepted -> ALARM email received


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def summary_lines(facts: SummaryFacts) -> list[str]:
    mail, events = shlex.quote(shown(facts.maildir)), shlex.quote(shown(facts.datadog_file))
    total_rejected = sum(c.rejected for c in facts.counts)
    sent = " · ".join(f"{c.source} {c.sent:,}" for c in facts.counts)
    accepted = (
        "all accepted"
        if not total_rejected
        else f"{total_rejected:,} refused by the server (see the server log)"
    )
    lines = [
        "",
        f"Summary after {facts.elapsed:.0f} s "
        f"(the same traffic again: logsieve demo --seed {facts.seed}"
        + (f" --rate {facts.rate:g})" if facts.rate != 1 else ")"),
        f"  events sent      {sent} ({accepted})",
        f"  {'alert rule':<24}{'matched':>9}{'alerts':>8}  sent to",
    ]
    matched = {rule.rule: rule.matched for rule in facts.rules}
    for rule, channel in facts.channel_of.items():
        what = "emails" if channel == "email" else "Datadog events"
        lines.append(
            f"  {rule:<24}{matched.get(rule, 0):>9,}{facts.alerts_by_rule.get(rule, 0):>8,}  {what}"
        )
    for channel, values in sorted(facts.latencies.items()):
        lines.append(f"  latency {channel:<8} {latency_text(values)}")
    lines.append(
        "                   (from the server accepting the event that caused the alert to the "
        "alert arriving)"
    )
    if facts.alarm:
        path = " -> ".join(t.new for t in facts.transitions) or "-"
        lines.append(
            f"  alarm            {facts.alarm}: {path}; "
            f"{_plural(len(facts.alarm_emails), 'SNS email')} in the Maildir:"
        )
        lines += [f"                     {subject}" for subject in facts.alarm_emails]
        if facts.alarm_latency_ms is not None:
            lines.append(
                f"                   flood accepted -> ALARM email: "
                f"{facts.alarm_latency_ms / 1000:.1f} s (the alarm is evaluated every 10 s)"
            )
    python_read = (
        "python3 -c \"import mailbox,sys; [print(m['Date'], m['Subject'], sep='  ') "
        'for m in sorted(mailbox.Maildir(sys.argv[1]), key=lambda m: m.get_date())]" '
        f"{mail}"
    )
    lines += [
        f"  emails           {_plural(facts.emails, 'message')} in the Maildir {mail}/ "
        "(one file each under new/)",
        f"                     read them:  mutt -f {mail}",
        f"                     or list:    {python_read}",
        f"  Datadog events   {_plural(facts.datadog_events, 'event')} in {events} "
        "(a JSON object a line: received_ms, event)",
        f"                     read them:  python3 -m json.tool --json-lines {events}",
        f"  config           {shown(facts.config_path)} (the three recipes, as `logsieve "
        "recipes add` writes them)",
        *[f"  {'set up' if n == 0 else '':<17}{line}" for n, line in enumerate(facts.setup)],
        f"  server log       {shown(facts.server_log)}",
        "",
    ]
    endpoint = endpoint_url(facts.config)
    if facts.still_running:
        lines.append(
            f"The server is still running on {endpoint} (and the SMTP catcher and the Datadog "
            "receiver with it) until you press Ctrl-C. Point the aws CLI or boto3 at it:"
        )
    else:
        config = shlex.quote(shown(facts.config_path))
        lines += [
            "The server has stopped. Run it again on the same data and credentials with",
            f"  logsieve serve --config {config}",
            "then point the aws CLI or boto3 at it:",
        ]
    lines += ["", credential_help(facts.credential, facts.config, PROFILE), ""]
    group = shlex.quote(facts.groups.get("client-vpn", "/aws/vpn/connections"))
    lines += [
        "# Then, for example: the VPN connections of one user, with a filter pattern",
        f"aws logs filter-log-events --profile {PROFILE} --log-group-name {group} "
        "--filter-pattern '{ $.username = \"alice\" }' --max-items 3",
    ]
    return lines
