"""Alerts: ingest-to-inbox latency at a local SMTP server, quiet and under background traffic.

Runs the real server with an alert rule (pattern ``ALERT``) whose channel is email, and a real
SMTP server (aiosmtpd) in this process as the inbox. Each probe is one PutLogEvents with a
single matching event whose id is in the message; its latency is the time from the 200 to the
email arriving at the SMTP server. Probes run on a quiet server, then while another client
keeps 10,000 non-matching events/s flowing into the same log group.

Target (issue 5): p99 <= 500 ms. No peer: neither moto nor LocalStack evaluate alert rules.
Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import email
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from email.header import decode_header, make_header
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from tests.server import Server, client, free_port  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402

GROUP = "/bench/alerts"
NOISE = "INFO request served path=/health status=200 " + "x" * 150


class Inbox:
    """An SMTP handler that notes when each probe's email arrived."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        now = time.time()
        message = email.message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(message["Subject"] or "")))
        if "probe " in subject:
            self.arrived.setdefault(int(subject.split("probe ")[1].split()[0]), now)
        return "250 OK"


def start_server(root: Path, smtp_port: int) -> Server:
    config = root / "logsieve.toml"
    config.write_text(
        textwrap.dedent(f"""
        [smtp]
        url = "smtp://127.0.0.1:{smtp_port}"

        [[channels]]
        name = "inbox"
        type = "email"
        to = ["oncall@example.com"]

        [[alerts]]
        name = "probe"
        log_groups = ["{GROUP}"]
        pattern = "ALERT"
        title = "{{{{ message.split(' ', 1)[1] }}}}"
        body = "{{{{ message }}}} at {{{{ timestamp }}}}"
        channels = ["inbox"]
        """)
    )
    return Server(root / "data", config=config).start()


def probe(logs, number: int) -> float:
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=GROUP, logStreamName="probes",
        logEvents=[{"timestamp": now, "message": f"ALERT probe {number} fired"}],
    )  # fmt: skip
    return time.time()


def noise(server: Server, rate: int, stop: threading.Event, sent: list[int]) -> None:
    logs = client(server)
    per_batch, begin, index = rate // 50, time.perf_counter(), 0
    while not stop.is_set():
        pause = begin + index / 50 - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": NOISE}] * per_batch
        logs.put_log_events(logGroupName=GROUP, logStreamName="noise", logEvents=events)
        sent[0] += per_batch
        index += 1


def run_probes(logs, inbox: Inbox, first: int, count: int, gap: float) -> list[float]:
    acked = {}
    for number in range(first, first + count):
        acked[number] = probe(logs, number)
        time.sleep(gap)
    deadline = time.time() + 30
    while time.time() < deadline and not all(n in inbox.arrived for n in acked):
        time.sleep(0.05)
    return sorted((inbox.arrived[n] - acked[n]) * 1000 for n in acked if n in inbox.arrived)


def summary(label: str, waits: list[float], count: int) -> str:
    p99 = waits[max(0, int(len(waits) * 0.99) - 1)]
    return (f"| {label} | {len(waits)}/{count} | {statistics.median(waits):.1f} | {p99:.1f} | "
            f"{waits[-1]:.1f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probes", type=int, default=100, help="probes per phase")
    parser.add_argument("--rate", type=int, default=10_000, help="background events/s")
    args = parser.parse_args()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with tempfile.TemporaryDirectory(prefix="logsieve-bench-") as tmp:
        server = start_server(Path(tmp), smtp.port)
        try:
            logs = client(server)
            logs.create_log_group(logGroupName=GROUP)
            for stream in ("probes", "noise"):
                logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
            progress(f"{args.probes} probes on a quiet server")
            quiet = run_probes(logs, inbox, 0, args.probes, 0.1)
            progress(f"{args.probes} probes under {args.rate:,} events/s of background traffic")
            stop, sent = threading.Event(), [0]
            flow = threading.Thread(target=noise, args=(server, args.rate, stop, sent))
            started = time.perf_counter()
            flow.start()
            time.sleep(2)
            loaded = run_probes(logs, inbox, 10_000, args.probes, 0.1)
            stop.set()
            flow.join()
            achieved = sent[0] / (time.perf_counter() - started)
        finally:
            server.stop()
            smtp.stop()
    print("# Alert latency benchmark (ingest to inbox)\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}")
    print(f"- background traffic achieved: {achieved:,.0f} events/s (asked {args.rate:,})\n")
    print("| phase | emails | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    print(summary("quiet", quiet, args.probes))
    print(summary(f"{args.rate:,} events/s background", loaded, args.probes))
    worst = max(q[max(0, int(len(q) * 0.99) - 1)] for q in (quiet, loaded))
    print(f"\n- {'PASS' if worst <= 500 else 'MISS'} p99 ingest-to-inbox <= 500 ms: {worst:.1f} ms")


if __name__ == "__main__":
    main()
