"""Console: the live tail and the event list, measured in a real browser (Debian's Chromium
driven by Playwright) against a real ``logsieve serve``.

1. **Event list of a big group.** ``--events`` (default 1,000,000) events are written into a
   fresh data directory through the event log's own store (``SqliteStore.append``, 10,000 a
   batch: the fast way to fill it) before the server starts. The browser then opens
   ``/console/events?group=...`` ``--opens`` times; time to first byte (``responseStart -
   requestStart``) and to the load event come from the page's Navigation Timing.
   Target: opens in < 300 ms.
2. **Live tail latency.** The browser opens a tail of an empty group; a MutationObserver
   (installed through the DevTools protocol, so the page's CSP does not apply) stamps every
   row the tail draws, and a ``requestAnimationFrame`` after it stamps the frame that shows
   it. A thread puts ``--rate`` events/s (batches every 50 ms) with boto3, each event
   carrying the wall-clock time just before its PutLogEvents call. Latency = draw time in the
   page minus put time; the browser's clock (``performance.timeOrigin + performance.now()``)
   is related to Python's ``time.time()`` by the round trip with the smallest delay, and that
   offset (with its uncertainty) is taken out. The tail draws at most 500 events/s and
   samples uniformly above it (as AWS's Live Tail), so latency is over the rows drawn.
   Target: p99 <= 1 s at 1,000 events/s.
3. **Responsiveness with 5,000 rows.** With the tail full (5,000 events kept, still
   receiving), ``--presses`` presses of space (pause, then resume: resuming draws what
   waited) and as many mouse-wheel scrolls over the rows, then 12 scrolls back through older
   rows while paused; each is timed from the input event's timestamp to the frame after its
   handlers ran (a ``requestAnimationFrame`` then a task). Long tasks on the page's main
   thread, and its script/style/layout time (DevTools metrics), are counted meanwhile.
   Target: every input answered within 100 ms (RAIL's bound for a response to input).

Server CPU (its process's user+system time over the phase's wall time) and the machine's
load average are reported: other processes may share the machine. Progress to stderr, the
report (Markdown) to stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.console.conftest import chromium, serving  # noqa: E402
from tests.server import client  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.storage.sqlite import SqliteStore  # noqa: E402

BIG = "/bench/console-big"
TAIL = "/bench/console-tail"
BATCH = 10_000
TICK = 0.05  # seconds between the tail's PutLogEvents calls

# Stamps each row the tail draws (mutation time) and the frame that shows it (rAF).
OBSERVER = """() => {
  const clock = () => performance.timeOrigin + performance.now();
  const rows = document.getElementById("tail-rows");
  window.benchDrawn = [];
  window.benchLong = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.benchLong.push(e.duration);
  }).observe({type: "longtask"});
  new MutationObserver((records) => {
    const seen = clock();
    const puts = [];
    // A new row element, or a reused one given a new event's content (the virtual list).
    for (const r of records) for (const node of (r.target.logEvent ? [r.target] : r.addedNodes)) {
      const event = node.logEvent;
      if (!event) continue;
      const found = /"put":([0-9.]+)/.exec(event.message);
      if (found) puts.push(Number(found[1]));
    }
    if (!puts.length) return;
    requestAnimationFrame(() => {
      const painted = clock();
      for (const put of puts) window.benchDrawn.push([put, seen, painted]);
    });
  }).observe(rows, {childList: true, subtree: true});
  window.benchInput = [];
  const timeInput = (ev) => {
    const started = ev.timeStamp;
    requestAnimationFrame(() => setTimeout(() => {
      window.benchInput.push([ev.type, performance.now() - started]);
    }, 0));
  };
  document.addEventListener("keydown", timeInput, true);
  const box = document.getElementById("tail");
  box.addEventListener("wheel", timeInput, {capture: true, passive: true});
}"""
NAVIGATION = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  return {ttfb: n.responseStart - n.requestStart, load: n.loadEventEnd - n.startTime,
          dcl: n.domContentLoadedEventEnd - n.startTime, bytes: n.transferSize};
}"""


def fill(data_dir: Path, total: int) -> float:
    """``total`` events in one group over 10 streams, written through the store; seconds."""
    started = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(data_dir / "logsieve.db")
    now = int(time.time() * 1000)
    group = store.create_group(BIG, now, None, "STANDARD")
    assert group is not None
    streams = [store.create_stream(group.id, f"app-{i}", now) for i in range(10)]
    base = now - total  # one event a millisecond, ending now
    done = 0
    while done < total:
        size = min(BATCH, total - done)
        stamps = [base + done + i for i in range(size)]
        messages = [
            f'{{"level":"{"ERROR" if (done + i) % 50 == 0 else "INFO"}","n":{done + i},'
            f'"path":"/api/orders/{(done + i) % 997}","status":{200 if (done + i) % 50 else 500}}}'
            for i in range(size)
        ]
        stream = streams[(done // BATCH) % len(streams)]
        assert stream is not None
        store.append(group.id, stream.id, stamps, messages, sum(map(len, messages)), now)
        done += size
    store.close()
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def clock_offset(page: Any) -> tuple[float, float]:
    """(browser clock - Python clock, uncertainty) in ms, from the tightest of 20 round trips."""
    best = (float("inf"), 0.0)
    for _ in range(20):
        before = time.time() * 1000
        browser = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        best = min(best, (after - before, browser - (before + after) / 2))
    return best[1], best[0] / 2


def page_work(cdp: Any) -> float:
    """Seconds the page's main thread spent in script, style and layout so far (DevTools
    ``Performance.getMetrics``): its own work, apart from waiting for a shared CPU."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return sum(metrics.get(k, 0.0) for k in ("ScriptDuration", "RecalcStyleDuration",
                                               "LayoutDuration"))  # fmt: skip


def until(page: Any, predicate: str, seconds: float = 10.0) -> None:
    """Poll ``predicate`` in the page (``wait_for_function`` evals a string: the CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {seconds} s: {predicate}")
        page.wait_for_timeout(50)


def open_events(page: Any, url: str, opens: int) -> list[dict[str, float]]:
    found = []
    for _ in range(opens):
        page.goto(f"{url}/console/events?group={BIG}")
        page.wait_for_selector("table")
        until(page, "() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        found.append(page.evaluate(NAVIGATION))
    return found


class Putter(threading.Thread):
    """Puts ``rate`` events/s into the tail group, each stamped with its put time."""

    def __init__(self, logs: Any, rate: float) -> None:
        super().__init__(daemon=True)
        self.logs, self.per_tick = logs, max(1, round(rate * TICK))
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        next_at = time.monotonic()
        n = 0
        while not self.stop.is_set():
            put = time.time() * 1000
            message = '{{"put":%.3f,"n":%d,"level":"INFO"}}'
            events = [
                {"timestamp": int(put), "message": message % (put, n + i)}
                for i in range(self.per_tick)
            ]
            self.logs.put_log_events(logGroupName=TAIL, logStreamName="s", logEvents=events)
            n += self.per_tick
            self.sent = n
            next_at += TICK
            self.stop.wait(max(0.0, next_at - time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the big group")
    parser.add_argument("--opens", type=int, default=15, help="loads of the event list")
    parser.add_argument("--rate", type=float, default=1000.0, help="tail ingest, events/s")
    parser.add_argument("--duration", type=float, default=20.0, help="latency phase, seconds")
    parser.add_argument("--trace", type=Path, help="write a Chromium trace of the 5,000-row phase")
    parser.add_argument("--presses", type=int, default=20, help="inputs timed with 5,000 rows")
    args = parser.parse_args()
    exe = chromium()
    if exe is None:
        raise SystemExit("no system Chromium: apt-get install chromium-headless-shell")
    from playwright.sync_api import sync_playwright

    r = SimpleNamespace()  # the figures, filled phase by phase
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        progress(f"filling {args.events:,} events ...")
        r.fill_seconds = fill(data, args.events)
        with serving(data) as server, sync_playwright() as driver:
            pid = server.process.pid
            logs = client(server, "logs")  # type: ignore[arg-type]
            logs.create_log_group(logGroupName=TAIL)
            logs.create_log_stream(logGroupName=TAIL, logStreamName="s")
            browser = driver.chromium.launch(executable_path=exe)
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.goto(server.login_url)
            page.wait_for_selector("[data-testid=ingest-rate]")

            progress("event list ...")
            open_events(page, server.url, 2)  # warm-up: templates, caches
            events_cdp = page.context.new_cdp_session(page)
            events_cdp.send("Performance.enable")
            cpu0, wall0, work0 = cpu_seconds(pid), time.monotonic(), page_work(events_cdp)
            r.loads = open_events(page, server.url, args.opens)
            r.load_work = (page_work(events_cdp) - work0) / args.opens
            r.list_cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)

            progress("live tail latency ...")
            page.goto(f"{server.url}/console/tail?group={TAIL}")
            page.wait_for_selector("#tail[data-state=live]")
            page.evaluate(OBSERVER)
            r.offset, r.uncertainty = clock_offset(page)
            putter = Putter(logs, args.rate)
            r.per_tick = putter.per_tick
            cpu0, wall0 = cpu_seconds(pid), time.monotonic()
            putter.start()
            time.sleep(args.duration)  # the measured phase itself, not a synchronisation
            drawn = page.evaluate("() => window.benchDrawn")
            r.long_tasks = page.evaluate("() => window.benchLong.slice()")
            r.tail_cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
            r.tail_sent, r.tail_seconds = putter.sent, time.monotonic() - wall0
            r.drawn = len(drawn)
            r.seen = [row[1] - r.offset - row[0] for row in drawn]
            r.painted = [row[2] - r.offset - row[0] for row in drawn]

            progress("responsiveness with 5,000 rows ...")
            until(page, "() => Number(document.getElementById('tail').dataset.kept) >= 5000", 60)
            r.rows = page.evaluate("() => Number(document.getElementById('tail').dataset.kept)")
            page.evaluate("() => { window.benchInput = []; window.benchLong = []; }")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            work0, wall0 = page_work(cdp), time.monotonic()
            if args.trace:
                browser.start_tracing(page=page, path=str(args.trace), screenshots=False)
            box = page.locator("#tail").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            for i in range(args.presses):
                page.keyboard.press("Space")  # pause; the next press resumes and draws
                page.wait_for_timeout(150)
                page.mouse.wheel(0, -400 if i % 2 == 0 else 400)
                page.wait_for_timeout(150)
            page.wait_for_timeout(300)
            inputs = page.evaluate("() => window.benchInput.splice(0)")
            page.keyboard.press("Space")  # pause, then scroll back through older rows
            for _ in range(12):
                page.mouse.wheel(0, -20_000)
                page.wait_for_timeout(150)
            r.back = [ms for _, ms in page.evaluate("() => window.benchInput.splice(1)")]
            r.dom_rows = page.evaluate("() => document.querySelectorAll('#tail-rows .row').length")
            if args.trace:
                browser.stop_tracing()
            r.input_long = page.evaluate("() => window.benchLong.slice()")
            r.page_busy = (page_work(cdp) - work0) / (time.monotonic() - wall0)
            putter.stop.set()
            putter.join()
            browser.close()

    r.keys = [ms for kind, ms in inputs if kind == "keydown"]
    r.wheels = [ms for kind, ms in inputs if kind == "wheel"]
    r.ttfb = [n["ttfb"] for n in r.loads]
    r.load = [n["load"] for n in r.loads]
    print(report(args, r))
    return 0


def ms(values: list[float]) -> str:
    if not values:
        return "none measured"
    return (
        f"median {statistics.median(values):.0f} ms, p95 {pct(values, 0.95):.0f} ms, "
        f"p99 {pct(values, 0.99):.0f} ms, max {max(values):.0f} ms (n={len(values)})"
    )


def verdict(value: float, target: float) -> str:
    return f"{'MET' if value <= target else 'MISSED'} ({value / target:.2f}x of target)"


def report(args: argparse.Namespace, r: SimpleNamespace) -> str:
    load_avg = os.getloadavg()
    painted_p99 = pct(r.painted, 0.99) if r.painted else float("inf")
    inputs = r.keys + r.wheels + r.back
    return "\n".join([
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"- cpu: {cpu_model()}, {os.cpu_count()} logical CPUs; load average "
        f"{load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} at the end (other processes "
        "share the machine)",
        f"- logsieve {git_commit()}; browser: {chromium()} (headless, Playwright)",
        "",
        f"### Event list of a group with {args.events:,} events",
        f"- filled through the store in {r.fill_seconds:.1f} s; {len(r.loads)} loads of "
        f"`/console/events?group={BIG}` (first page, 100 events), after 2 warm-up loads",
        f"- time to first byte: {ms(r.ttfb)}",
        f"- to the load event: {ms(r.load)}",
        f"- page size {r.loads[0]['bytes']:,} B; server CPU {r.list_cpu * 100:.0f}% of one core; "
        f"the page's own script, style and layout work: {r.load_work * 1000:.0f} ms a load",
        f"- target < 300 ms to the load event, p95: {verdict(pct(r.load, 0.95), 300)}",
        "",
        f"### Live tail at {args.rate:,.0f} events/s",
        f"- put {r.tail_sent:,} events in {r.tail_seconds:.1f} s "
        f"({r.tail_sent / r.tail_seconds:,.0f} events/s achieved, batches of {r.per_tick} "
        f"every {TICK * 1000:.0f} ms); rows drawn and timed: {r.drawn:,} (the tail draws at "
        "most 500 events/s, sampling above it)",
        f"- clock offset browser - Python {r.offset:+.2f} ms (+/- {r.uncertainty:.2f} ms), "
        "removed",
        f"- put to row in the DOM: {ms(r.seen)}",
        f"- put to the frame showing it: {ms(r.painted)}",
        f"- long tasks on the page: {len(r.long_tasks)}, longest "
        f"{max(r.long_tasks, default=0):.0f} ms; server CPU {r.tail_cpu * 100:.0f}% of one core",
        f"- target p99 <= 1000 ms: {verdict(painted_p99, 1000)}",
        "",
        f"### Responsiveness with {r.rows:,} events kept (still receiving)",
        "- a virtual list: the rows in view and 10 above and below them are in the DOM, "
        "following or scrolling back",
        f"- space (pause / resume): {ms(r.keys)}",
        f"- mouse wheel over the rows: {ms(r.wheels)}",
        f"- paused, 12 mouse-wheel scrolls back through older rows ({r.dom_rows:,} rows "
        "in the DOM by then): "
        f"{ms(r.back)}",
        f"- long tasks meanwhile: {len(r.input_long)}, longest "
        f"{max(r.input_long, default=0):.0f} ms; the page's own script, style and layout work: "
        f"{r.page_busy * 1000:.0f} ms per second",
        f"- target every input <= 100 ms: {verdict(max(inputs, default=float('inf')), 100)}",
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
