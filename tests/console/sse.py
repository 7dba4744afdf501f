"""A real HTTP client for the console's server-sent events: sign in through the form with
httpx, then read a stream's frames in a thread (frames are appended as they arrive)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.console.conftest import post_login


def signed_in(base: str) -> httpx.Client:
    """An httpx client holding a console session of the server at ``base``."""
    client = httpx.Client(base_url=base, timeout=10)
    answer = post_login(client, base)
    assert answer.status_code == 303, answer.text
    return client


@dataclass
class Frame:
    event: str
    id: str | None
    data: Any


@dataclass
class Reader:
    """Frames of one SSE response, read by a thread until the stream ends or ``close``."""

    client: httpx.Client
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    status: int | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    _response: httpx.Response | None = None

    def start(self) -> Reader:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            with self.client.stream("GET", self.path, headers=self.headers, timeout=None) as r:
                self._response = r
                self.status = r.status_code
                event, ident, data = "message", None, []
                for line in r.iter_lines():
                    if line == "":
                        if data:
                            self.frames.append(Frame(event, ident, json.loads("\n".join(data))))
                        event, data = "message", []
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: "):
                        ident = line[4:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test, or the server went away
        finally:
            self.ended.set()

    def events(self) -> list[dict[str, Any]]:
        return [e for f in self.frames if f.event == "logs" for e in f.data["events"]]

    def last_id(self) -> str | None:
        ids = [f.id for f in self.frames if f.id is not None]
        return ids[-1] if ids else None

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self.ended.wait(5)
