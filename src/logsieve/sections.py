"""Every component's config section, in one list: the one place that imports them all.

``logsieve.config`` (layer 0) reads the file but knows only the shared sections; each
component declares its own ``Section`` next to its settings (see ``config.py``'s docstring).
This module, at the top of the layers with ``app`` and ``cli``, names them explicitly, so
which sections exist never depends on which modules happened to be imported first. Every
program that reads the config file calls :func:`load_config` here.

Adding a section: write its parser module in its package, add it to ``SECTIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import config
from .alerts.config import ALERTS
from .cluster import CLUSTER
from .console.settings import CONSOLE
from .destinations.firehose import FIREHOSE
from .lambdas.declared import FUNCTIONS
from .notify.config import CHANNELS
from .sources.config import SOURCES
from .storage.settings import STORAGE
from .subscriptions.settings import DELIVERY

__all__ = ["SECTIONS", "load_config"]

#: The order of the arrays is the order error messages list them in.
SECTIONS: tuple[config.Section[Any], ...] = (
    DELIVERY,
    STORAGE,
    FIREHOSE,
    FUNCTIONS,
    CHANNELS,
    ALERTS,
    SOURCES,
    CONSOLE,
    CLUSTER,
)


def load_config(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> config.Config:
    """:func:`logsieve.config.load_config` with every component's section."""
    return config.load_config(path, overrides, environ, sections=SECTIONS)
