"""Console fixtures: a signed-in TestClient on a real app, and a real browser on a real server.

- ``console_app``: the server's whole app (``create_app``) with its lifespan running, one per
  module; ``console_client`` is a TestClient on it, signed in with the key pair through the
  form, with ``.csrf`` holding the session's CSRF token.
- ``console_server``: ``logsieve serve`` as a subprocess on an ephemeral port, its printed
  one-time sign-in URL in ``.login_url``; ``signed_in_page`` is a Playwright page (Debian's
  Chromium, launched by path) signed in through the form. Browser tests skip, saying why,
  only when no Chromium is installed.
- ``screenshot(page, name)`` saves a PNG under ``test-output/console/`` for reviewers.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from logsieve.app import create_app
from logsieve.config import Config, Credential
from tests.server import ACCESS_KEY, SECRET_KEY, free_port

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "console"
BASE = "http://127.0.0.1:4588"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
CHROMIUMS = ("chromium-headless-shell", "chromium")


def console_config(data_dir: Path) -> Config:
    return Config(data_dir=data_dir, credentials=(Credential(ACCESS_KEY, SECRET_KEY),), port=4588)


@pytest.fixture(scope="module")
def console_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = create_app(console_config(tmp_path_factory.mktemp("console-data")))
    with TestClient(app, base_url=BASE):  # runs the lifespan: pumps, outbox...
        yield app


class ConsoleClient(TestClient):
    csrf: str = ""


def post_login(client: Any, origin: str, follow: bool = False) -> Any:
    """Sign ``client`` (a TestClient or an httpx client) in through the form, as a browser
    would: the form's answer."""
    form = client.get("/console/login")
    token = LOGIN_TOKEN.search(form.text)
    assert token, form.text
    return client.post(
        "/console/login",
        data={"login_token": token[1], "access_key_id": ACCESS_KEY,
              "secret_access_key": SECRET_KEY},
        headers={"origin": origin},
        follow_redirects=follow,
    )  # fmt: skip


def sign_in(client: TestClient) -> str:
    """Sign in through the form (as a browser would); the session's CSRF token."""
    answer = post_login(client, BASE, follow=True)
    assert answer.status_code == 200, answer.text  # followed to the first page
    found = CSRF.search(answer.text)
    assert found, answer.text
    return found[1]


@pytest.fixture
def console_client(console_app: Any) -> Iterator[ConsoleClient]:
    client = ConsoleClient(console_app, base_url=BASE)
    client.csrf = sign_in(client)
    yield client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found[1]


# --- a real server and a real browser ------------------------------------------------------


@dataclass
class ConsoleServer:
    url: str
    login_url: str
    process: subprocess.Popen[str]


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[ConsoleServer]:
    """``logsieve serve`` with the one-time sign-in URL it printed."""
    port = free_port()
    env = {
        **os.environ,
        "LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY,
        "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
        "LOGSIEVE_CONFIG": "",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "logsieve", "serve", "--port", str(port),
         "--data-dir", str(data_dir), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        login_url = _printed_url(process)
        # Keep reading its stdout so the server never blocks on a full pipe.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield ConsoleServer(f"http://127.0.0.1:{port}", login_url, process)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """One server for the browser tests (its sign-in link is spent by the smoke test)."""
    with serving(tmp_path_factory.mktemp("console-server")) as running:
        yield running


def _printed_url(process: subprocess.Popen[str]) -> str:
    """The sign-in URL from the server's announcement (it prints it once it answers)."""
    assert process.stdout is not None
    timer = threading.Timer(60, process.kill)  # a server that never announces fails the test
    timer.start()
    try:
        for line in process.stdout:
            found = re.search(r"(http://\S+/console/login\?token=\S+)", line)
            if found:
                return found[1]
    finally:
        timer.cancel()
    raise RuntimeError(f"logsieve serve exited ({process.wait()}) without printing a URL")


def chromium() -> str | None:
    return next((path for name in CHROMIUMS if (path := shutil.which(name))), None)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium, launched by path (``playwright install`` needs a CDN), for this
    package's tests only: Playwright's sync API keeps an event loop running in the main
    thread while it is started, which breaks every later test calling ``asyncio.run``."""
    exe = chromium()
    if exe is None:
        pytest.skip(
            "no system Chromium for the browser tests: apt-get install chromium-headless-shell"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=exe)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; a desktop-sized viewport."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def signed_in_page(page: Any, console_server: ConsoleServer) -> Any:
    """A browser page signed in with the key pair through the sign-in form."""
    page.goto(f"{console_server.url}/console/")
    page.fill("input[name=access_key_id]", ACCESS_KEY)
    page.fill("input[name=secret_access_key]", SECRET_KEY)
    page.click("form button[type=submit]")
    page.wait_for_selector("[data-testid=ingest-rate]")
    return page


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as ``test-output/console/<name>.png`` for a reviewer."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
