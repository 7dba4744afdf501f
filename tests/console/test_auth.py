"""The console's auth and safety rules, each through the real app (Starlette TestClient)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from logsieve.app import create_app
from logsieve.console.auth import MAX_FAILURES_PER_MINUTE, Sessions
from tests.console.conftest import BASE, LOGIN_TOKEN, ConsoleClient, console_config, sign_in
from tests.server import ACCESS_KEY, SECRET_KEY


@pytest.fixture
def fresh_app(tmp_path: Path) -> Any:
    """An app of its own: its one-time token and sign-in throttle are unused."""
    app = create_app(console_config(tmp_path / "data"))
    with TestClient(app, base_url=BASE):
        yield app


def anonymous(app: Any) -> TestClient:
    return TestClient(app, base_url=BASE, follow_redirects=False)


@pytest.mark.parametrize("path", ["/console/", "/console/header", "/console/no-such-page"])
def test_pages_redirect_to_the_sign_in_form_without_a_session(console_app: Any, path: str) -> None:
    answer = anonymous(console_app).get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")


@pytest.mark.parametrize(
    "path", ["/console/static/vendor/htmx-4.0.1.min.js", "/console/static/console.js"]
)
def test_static_files_are_refused_without_a_session(console_app: Any, path: str) -> None:
    assert anonymous(console_app).get(path).status_code == 401


def test_htmx_requests_without_a_session_are_refused(console_app: Any) -> None:
    assert (
        anonymous(console_app).get("/console/header", headers={"hx-request": "true"}).status_code
        == 401
    )


def test_state_changing_requests_without_a_session_are_refused(console_app: Any) -> None:
    answer = anonymous(console_app).post("/console/logout", data={"csrf_token": "x"})
    assert answer.status_code == 401


def test_the_sign_in_page_and_its_stylesheet_are_public(console_app: Any) -> None:
    client = anonymous(console_app)
    assert client.get("/console/login").status_code == 200
    assert client.get("/console/static/console.css").status_code == 200


def test_console_without_slash_redirects_inside(console_app: Any) -> None:
    answer = anonymous(console_app).get("/console")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/console/"


def test_the_printed_token_signs_in_once_with_a_strict_http_only_cookie(fresh_app: Any) -> None:
    url = fresh_app.state.console.login_url(BASE)
    assert url.startswith(f"{BASE}/console/login?token=")
    client = anonymous(fresh_app)
    answer = client.get(url.removeprefix(BASE))
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("logsieve_console=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/console"):
        assert attribute.lower() in cookie.lower()
    assert client.get("/console/header").status_code == 200
    # The token is spent: a second browser gets the form, and no URL is printed any more.
    again = anonymous(fresh_app).get(url.removeprefix(BASE))
    assert again.status_code == 403
    assert "already used" in again.text
    assert "set-cookie" not in again.headers or "logsieve_console=" not in again.headers.get(
        "set-cookie", ""
    )
    assert fresh_app.state.console.login_url(BASE) is None


def test_a_wrong_token_does_not_sign_in(fresh_app: Any) -> None:
    client = anonymous(fresh_app)
    assert client.get("/console/login?token=guess").status_code == 403
    assert client.get("/console/header").status_code == 303
    assert fresh_app.state.console.login_url(BASE) is not None  # still unused


def _login_form(client: TestClient) -> str:
    found = LOGIN_TOKEN.search(client.get("/console/login").text)
    assert found
    return found[1]


def test_the_form_checks_the_key_pair(fresh_app: Any) -> None:
    client = anonymous(fresh_app)
    token = _login_form(client)
    wrong = client.post(
        "/console/login",
        data={"login_token": token, "access_key_id": ACCESS_KEY, "secret_access_key": "nope"},
    )
    assert wrong.status_code == 401
    assert "Wrong access key id or secret access key." in wrong.text
    assert client.get("/console/header").status_code == 303
    unknown = client.post(
        "/console/login",
        data={"login_token": _login_form(client), "access_key_id": "AKIAUNKNOWN",
              "secret_access_key": SECRET_KEY},
    )  # fmt: skip
    assert unknown.status_code == 401
    right = client.post(
        "/console/login",
        data={"login_token": _login_form(client), "access_key_id": ACCESS_KEY,
              "secret_access_key": SECRET_KEY, "next": "/console/header"},
    )  # fmt: skip
    assert right.status_code == 303
    assert right.headers["location"] == "/console/header"
    assert client.get("/console/header").status_code == 200


def test_the_form_needs_its_own_csrf_cookie(fresh_app: Any) -> None:
    answer = anonymous(fresh_app).post(
        "/console/login",
        data={"login_token": "forged", "access_key_id": ACCESS_KEY,
              "secret_access_key": SECRET_KEY},
    )  # fmt: skip
    assert answer.status_code == 403
    assert "expired" in answer.text


def test_guessing_stops_after_too_many_failures(fresh_app: Any) -> None:
    client = anonymous(fresh_app)
    for _ in range(MAX_FAILURES_PER_MINUTE):
        client.post(
            "/console/login",
            data={"login_token": _login_form(client), "access_key_id": ACCESS_KEY,
                  "secret_access_key": "guess"},
        )  # fmt: skip
    right = client.post(
        "/console/login",
        data={"login_token": _login_form(client), "access_key_id": ACCESS_KEY,
              "secret_access_key": SECRET_KEY},
    )  # fmt: skip
    assert right.status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/other"])
def test_no_open_redirect_after_sign_in(fresh_app: Any, target: str) -> None:
    client = anonymous(fresh_app)
    answer = client.post(
        "/console/login",
        data={"login_token": _login_form(client), "access_key_id": ACCESS_KEY,
              "secret_access_key": SECRET_KEY, "next": target},
    )  # fmt: skip
    assert answer.headers["location"] == "/console/"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4588", "rebind.127.0.0.1.nip.io"])
def test_foreign_host_names_are_refused(console_client: ConsoleClient, host: str) -> None:
    answer = console_client.get("/console/header", headers={"host": host})
    assert answer.status_code == 403
    assert "not allowed" in answer.text


@pytest.mark.parametrize("host", ["127.0.0.1:4588", "localhost:4588", "[::1]:4588", "10.1.2.3"])
def test_ip_literals_and_localhost_are_accepted(console_client: ConsoleClient, host: str) -> None:
    assert console_client.get("/console/header", headers={"host": host}).status_code == 200


def test_cross_origin_requests_are_refused(console_client: ConsoleClient) -> None:
    evil = {"origin": "http://evil.example"}
    assert console_client.get("/console/header", headers=evil).status_code == 403
    answer = console_client.post(
        "/console/logout", data={"csrf_token": console_client.csrf}, headers=evil
    )
    assert answer.status_code == 403
    cross_site = {"sec-fetch-site": "cross-site"}
    answer = console_client.post(
        "/console/logout", data={"csrf_token": console_client.csrf}, headers=cross_site
    )
    assert answer.status_code == 403
    assert console_client.get("/console/header").status_code == 200  # still signed in


def test_state_changes_need_the_csrf_token(console_client: ConsoleClient) -> None:
    client = console_client
    client.follow_redirects = False
    assert client.post("/console/logout").status_code == 403
    assert client.post("/console/logout", data={"csrf_token": "stale"}).status_code == 403
    assert client.get("/console/header").status_code == 200
    answer = client.post("/console/logout", headers={"x-csrf-token": client.csrf})
    assert answer.status_code == 303
    assert client.get("/console/header").status_code == 303  # signed out


def test_a_csrf_token_belongs_to_its_session(console_app: Any) -> None:
    first = ConsoleClient(console_app, base_url=BASE, follow_redirects=False)
    second = ConsoleClient(console_app, base_url=BASE, follow_redirects=False)
    first.csrf, second.csrf = sign_in(first), sign_in(second)
    assert first.csrf != second.csrf
    assert first.post("/console/logout", data={"csrf_token": second.csrf}).status_code == 403


@pytest.mark.parametrize("path", ["/console/login", "/console/header"])
def test_every_answer_carries_a_strict_csp(console_client: ConsoleClient, path: str) -> None:
    headers = console_client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(console_client: ConsoleClient) -> None:
    """What the CSP would block must not be there to begin with."""
    for path in ["/console/login", "/console/", "/console/header"]:
        html = console_client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert "hx-on" not in html, path


def test_sessions_expire_when_idle_and_after_their_lifetime() -> None:
    now = [0.0]
    sessions = Sessions(lambda key: SECRET_KEY, clock=lambda: now[0], idle=10, lifetime=25)
    session = sessions.sign_in(ACCESS_KEY, SECRET_KEY)
    assert session is not None
    now[0] = 9
    assert sessions.get(session.id) is session  # used: its idle time restarts
    now[0] = 18
    assert sessions.get(session.id) is session
    now[0] = 26  # within idle time, past its lifetime
    assert sessions.get(session.id) is None
    other = sessions.sign_in(ACCESS_KEY, SECRET_KEY)
    assert other is not None
    now[0] = 37  # 11 s idle
    assert sessions.get(other.id) is None


def test_a_console_session_does_not_authorize_the_aws_api(console_client: ConsoleClient) -> None:
    """SigV4 rules are unchanged: the console's cookie is no AWS credential."""
    cookie = console_client.cookies["logsieve_console"]  # Path=/console: sent here by hand
    answer = TestClient(console_client.app, base_url=BASE).post(
        "/",
        content=b"{}",
        headers={
            "x-amz-target": "Logs_20140328.DescribeLogGroups",
            "content-type": "application/x-amz-json-1.1",
            "cookie": f"logsieve_console={cookie}",
        },
    )
    assert answer.status_code in (400, 403)
    assert "MissingAuthenticationToken" in answer.text


def test_a_huge_sign_in_body_is_refused(console_app: Any) -> None:
    """The public form is capped like every other route of logsieve's own (64 KiB)."""
    answer = anonymous(console_app).post(
        "/console/login",
        content=b"access_key_id=" + b"A" * 200_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
