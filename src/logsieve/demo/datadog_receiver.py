"""A local stand-in for Datadog's Events API v1: ``POST /api/v1/events`` on 127.0.0.1.

The demo's Datadog channel posts here through its ordinary ``api_url`` setting, so the alert
takes the same path it takes to Datadog (the same JSON body, the ``DD-API-KEY`` header, the
same status handling). The receiver answers as Datadog does -- 202 with ``{"status": "ok",
"event": {...}}``, 403 for a wrong key, 400 for a body Datadog would refuse -- and appends each
accepted event to a JSON Lines file: ``{"received_ms": ..., "event": <the body as posted>}``.

The checks follow Datadog's "Post an event" reference, not logsieve's own code, so a shape
mistake in the channel shows up as a refused event in the demo.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DatadogReceiver", "event_problems"]

EVENTS_PATH = "/api/v1/events"
_FIELDS = frozenset(
    {
        "aggregation_key", "alert_type", "date_happened", "device_name", "host", "priority",
        "related_event_id", "source_type_name", "tags", "text", "title",
    }
)  # fmt: skip
_ALERT_TYPES = frozenset(
    {"error", "warning", "info", "success", "user_update", "recommendation", "snapshot"}
)
_MAX_AGE_SECONDS = 18 * 3600  # "Limited to events no older than 18 hours"
_MAX_BODY_BYTES = 512 * 1024


def event_problems(event: Any, now: float) -> list[str]:
    """What Datadog would refuse in a v1 event body (empty when it is valid)."""
    if not isinstance(event, dict):
        return ["the body must be a JSON object"]
    problems = [f"unknown field {name!r}" for name in sorted(set(event) - _FIELDS)]
    title, text = event.get("title"), event.get("text")
    if not isinstance(title, str) or not title:
        problems.append("title is required (a non-empty string)")
    if not isinstance(text, str):
        problems.append("text is required (a string)")
    elif len(text) > 4000:
        problems.append(f"text is {len(text)} characters; the limit is 4000")
    elif text.startswith("%%%") and not (text.startswith("%%% \n") and text.endswith("\n %%%")):
        problems.append("Markdown text must start with '%%% \\n' and end with '\\n %%%'")
    key = event.get("aggregation_key")
    if key is not None and (not isinstance(key, str) or len(key) > 100):
        problems.append("aggregation_key must be a string of at most 100 characters")
    if "alert_type" in event and event["alert_type"] not in _ALERT_TYPES:
        problems.append(f"alert_type must be one of {', '.join(sorted(_ALERT_TYPES))}")
    if "date_happened" in event:
        happened = event["date_happened"]
        if not isinstance(happened, int) or isinstance(happened, bool):
            problems.append("date_happened must be an integer (POSIX seconds)")
        elif happened < now - _MAX_AGE_SECONDS:
            problems.append("date_happened is more than 18 hours ago")
    if "priority" in event and event["priority"] not in ("normal", "low"):
        problems.append("priority must be normal or low")
    tags = event.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags)
    ):
        problems.append("tags must be a list of strings")
    return problems


class DatadogReceiver:
    """``with DatadogReceiver(path, api_key) as dd:`` -- events accepted at ``dd.url``
    are appended to ``path``; ``accepted`` and ``refused`` count the requests."""

    def __init__(self, path: Path, api_key: str) -> None:
        self.path = Path(path)
        self.api_key = api_key
        self.accepted = 0
        self.refused: list[str] = []  # one line per refused request, for the summary
        self._lock = threading.Lock()
        self.path.touch()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "logsieve-demo-datadog"

            def do_POST(self) -> None:
                status, reply = receiver._handle(
                    urlsplit(self.path).path,
                    self.headers.get("DD-API-KEY"),
                    self.headers.get("Content-Type", ""),
                    self.rfile.read(min(int(self.headers.get("Content-Length") or 0),
                                        _MAX_BODY_BYTES)),
                )  # fmt: skip
                body = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the demo's display reports what arrives; no access log on the terminal

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="demo-datadog",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The ``api_url`` that points a Datadog channel here."""
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    def _handle(
        self, path: str, api_key: str | None, content_type: str, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        if path != EVENTS_PATH:
            return 404, {"errors": ["Not found"]}
        if api_key != self.api_key:
            self._refuse("403: missing or wrong DD-API-KEY")
            return 403, {"errors": ["Forbidden"]}
        if "json" not in content_type.lower():
            self._refuse(f"400: Content-Type {content_type or '(none)'} is not JSON")
            return 400, {"errors": ["Content-Type must be application/json"]}
        now = time.time()
        try:
            event = json.loads(raw)
        except ValueError:
            self._refuse("400: the body is not JSON")
            return 400, {"errors": ["Invalid JSON"]}
        problems = event_problems(event, now)
        if problems:
            self._refuse("400: " + "; ".join(problems))
            return 400, {"errors": problems}
        received_ms = int(now * 1000)
        line = json.dumps({"received_ms": received_ms, "event": event}, ensure_ascii=False)
        with self._lock:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            self.accepted += 1
            event_id = received_ms * 1000 + self.accepted % 1000  # unique within the demo
        stored = {
            "id": event_id,
            "id_str": str(event_id),
            "title": event["title"],
            "text": event["text"],
            "date_happened": event.get("date_happened", int(now)),
            "priority": event.get("priority", "normal"),
            "tags": event.get("tags", []),
            "url": f"http://127.0.0.1:{self.port}/event/event?id={event_id}",
        }
        return 202, {"status": "ok", "event": stored}

    def _refuse(self, why: str) -> None:
        with self._lock:
            self.refused.append(why)

    def start(self) -> DatadogReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> DatadogReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
