"""The console's pages, in one explicit list (the nav shows them by ``Page.order``).

Adding a page: write ``pages/<name>.py`` with ``PAGE = Page(...)`` (see ``console/__init__``),
import it here and add it to ``PAGES``.
"""

from __future__ import annotations

from ..page import Page
from . import alerts, checks, events, groups, metrics, playground, sources, subscriptions, tail

PAGES: tuple[Page, ...] = (
    groups.PAGE,
    events.PAGE,
    tail.PAGE,
    playground.PAGE,
    subscriptions.PAGE,
    alerts.PAGE,
    metrics.PAGE,
    sources.PAGE,
    checks.PAGE,
)
