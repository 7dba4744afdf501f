"""``logsieve demo``: the whole chain working on a laptop, in one command.

It starts an SMTP catcher (a Maildir) and a Datadog-style events receiver on 127.0.0.1, writes
a ``logsieve.toml`` with the three recipes (VPN connections and IAM user activity by email,
rejected traffic as Datadog events), starts the real server on it, sets the account up through
the API as the README tells a user on AWS (a flow log, a Client VPN endpoint with connection
logging, a trail, the ``rejected-traffic-rate`` topic, metric filter and alarm), runs
``simulate world`` on it, and shows live what happens -- events in, matches per rule, each
alert with its rendered text and its delivery latency, the alarm's transitions when the
world's flood lifts the REJECT count -- then a summary that says where the alerts are and how
to point the aws CLI or boto3 at the server.

Modules, one job each: ``plan`` (names, rates, threshold), ``datadir`` (a fresh, safe data
directory), ``mailcatcher`` and ``datadog_receiver`` (the local inboxes), ``democonfig`` (the
config file), ``server`` (the ``logsieve serve`` child process), ``account`` (the API setup),
``traffic`` (the world), ``alarm`` (the alarm's state, and when to flood), ``observe`` and
``latency`` (reading back what happened), ``display`` and ``summary`` (the terminal),
``runner`` (the order of it all).
"""

from __future__ import annotations

from .runner import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
