"""The web console: server-rendered pages under ``/console/`` of the same Starlette app.

Jinja2 templates, htmx 4 and uPlot (vendored under ``static/vendor/``, see its VENDOR.md);
no Node, no build step, no CDN. Sessions instead of SigV4 (``auth``), a gate in front of
every request (``guard``: Host, Origin, session, security headers), a CSRF check on every
state-changing route (``page.protect``).

How to add a page
-----------------
1. **Routes.** Write ``pages/<name>.py`` with async handlers and a module-level
   ``PAGE = Page(name="<name>", title="<Nav label>", routes=[Route("/<name>", handler,
   methods=["GET"]), ...], nav="/<name>", order=<n>)``. Paths are relative to ``/console``.
   Import the module in ``pages/__init__.py`` and add ``PAGE`` to ``PAGES``. The console
   wraps each route: the gate has already checked the session; the body is capped at 64 KiB.
2. **Template.** ``templates/<name>.html.j2`` extending ``base.html.j2`` (blocks ``title``,
   ``head``, ``main``); answer with ``await render(request, "<name>.html.j2", active="<name>",
   **values)`` from ``render.py``. Templates get ``url("/path", **query)``, ``fmt_time(ms)``,
   ``fmt_bytes(n)``, ``header``, ``nav``. Times: ``<time data-ms="{{ ms }}">{{ fmt_time(ms)
   }}</time>`` follows the UTC/local toggle. An htmx fragment is a template of its own (or
   an ``{% include %}``) rendered by its own route.
3. **CSRF.** Every POST/PUT/PATCH/DELETE must carry the session's token: put ``{{
   csrf_field() }}`` in each form (or send the ``X-CSRF-Token`` header with ``{{ csrf_token
   }}``); without it the request gets a 403 before your handler runs. Read the form with
   ``await page.form(request)`` (urlencoded, parsed once). ``data-confirm="..."`` on a form
   asks before it submits.
4. **No inline script or style**: the CSP allows files from ``/console/static/`` only. Put
   behaviour in ``static/console.js`` (or a page script of its own in ``static/``, loaded
   from the ``head`` block) and styles in ``static/console.css``; htmx attributes are fine,
   ``hx-on`` and ``js:`` values are not (they need eval).
5. **Services.** ``page.services(request)`` is the :class:`ConsoleServices` the composition
   root handed over: call the services in process (``services(request).logs.operations
   ["DescribeLogGroups"]({...})`` keeps AWS's rules and errors; a ``ServiceError`` carries
   AWS's code and message to show). Blocking calls go through ``run_in_threadpool``. A part
   the server lacks is None: hide or explain. New parts: a field on ``ConsoleServices`` (or
   ``extra``) filled in ``app.py``.
6. **Tests.** ``tests/console/conftest.py``: ``console_client`` is a Starlette TestClient on
   the whole app (``create_app``), signed in through the form, with ``.csrf`` holding the
   session's token. ``console_server`` runs ``logsieve serve`` on an ephemeral port (its
   printed one-time URL in ``.login_url``); ``signed_in_page`` is a Playwright page on
   Debian's Chromium (launched by path; skipped, saying why, when none is installed) signed
   in through the form. ``screenshot(page, "<name>")`` saves ``test-output/console/
   <name>.png`` for reviewers; check a phone width with ``page.set_viewport_size``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Console", "ConsoleServices", "IngestMeter", "Page"]
#: Imported when first asked for: the config loader imports ``console.settings``, and reading
#: a config file must not import the server (Starlette, the services, the templates).
_WHERE = {"Console": "build", "ConsoleServices": "services", "IngestMeter": "services",
          "Page": "page"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
