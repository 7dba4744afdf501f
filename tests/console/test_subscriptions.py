"""Subscriptions page through a signed-in TestClient on the real app: dead letters decoded,
redriven one by one (a failure says why and counts an attempt) or all; CSRF on redrive."""

from __future__ import annotations

import html
import time
from typing import Any

from logsieve.formats.awslogs import LogEvent, Payload, encode
from logsieve.storage import DeadLetter
from tests.console.conftest import BASE, ConsoleClient
from tests.lambdas.helpers import ECHO, ROLE, make_zip

ORIGIN = {"origin": BASE}


def _services(app: Any) -> Any:
    return app.state.console.app.state.services


def _letter(app: Any, destination: str, message: str) -> int:
    payload = Payload("DATA_MESSAGE", "123456789012", "/dl/app", "web-1", ["sub"],
                      [LogEvent("1", 1_700_000_000_000, message)])  # fmt: skip
    now = int(time.time() * 1000)
    letter = DeadLetter(0, now, "/dl/app", "sub", destination, "web-1", 1, now, now, 3,
                        "Function not found", encode(payload), None)  # fmt: skip
    return _services(app).dead_letters.add(letter)


def _function(app: Any, name: str) -> str:
    lambdas = _services(app).extra["lambdas"]
    lambdas.operations["CreateFunction"]({
        "FunctionName": name, "Runtime": "python3.12", "Role": ROLE,
        "Handler": "handler.handler", "Code": {"ZipFile": make_zip({"handler.py": ECHO})},
    })  # fmt: skip
    lambdas.operations["AddPermission"]({
        "FunctionName": name, "StatementId": "logs", "Action": "lambda:InvokeFunction",
        "Principal": "logs.amazonaws.com",
    })  # fmt: skip
    return lambdas.operations["GetFunction"]({"FunctionName": name})["Configuration"]["FunctionArn"]


def _redrive(client: ConsoleClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data}, headers=ORIGIN,
                       follow_redirects=True)  # fmt: skip


def test_dead_letters_are_decoded_and_a_failed_redrive_says_why(
    console_client: ConsoleClient, console_app: Any
) -> None:
    missing = "arn:aws:lambda:us-east-1:123456789012:function:no-such-function"
    letter = _letter(console_app, missing, "ERROR lost payment 42")
    page = console_client.get("/console/subscriptions")
    assert page.status_code == 200
    assert f'data-letter="{letter}"' in page.text
    assert '"message": "ERROR lost payment 42"' in html.unescape(page.text)  # decoded
    refused = console_client.post("/console/subscriptions/redrive", data={"id": str(letter)},
                                  headers=ORIGIN)  # fmt: skip
    assert refused.status_code == 403
    failed = _redrive(console_client, "/console/subscriptions/redrive", id=str(letter))
    assert f"Dead letter {letter} failed again" in html.unescape(failed.text)
    assert _services(console_app).dead_letters.get(letter).attempts == 4
    unknown = _redrive(console_client, "/console/subscriptions/redrive", id="999999")
    assert "No dead letter 999999." in unknown.text


def test_redrive_delivers_and_redrive_all_takes_every_pending_letter(
    console_client: ConsoleClient, console_app: Any
) -> None:
    arn = _function(console_app, "dl-sink")
    store = _services(console_app).dead_letters
    for pending in store.list(False):  # letters of other tests: out of the way
        store.mark_redriven(pending.id, 1)
    first = _letter(console_app, arn, "one")
    done = _redrive(console_client, "/console/subscriptions/redrive", id=str(first))
    assert f"Dead letter {first}: delivered 1 events." in done.text
    assert store.get(first).redriven is not None
    more = [_letter(console_app, arn, f"m{i}") for i in range(2)]
    done = _redrive(console_client, "/console/subscriptions/redrive-all")
    assert "Redrove 2 of 2 dead letters." in done.text
    assert all(store.get(i).redriven for i in more)
    assert "No dead letters pending." in done.text
    shown = console_client.get("/console/subscriptions?all=1")
    assert f'data-letter="{first}"' in shown.text and "redriven" in shown.text
