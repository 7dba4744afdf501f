"""The registry of source kinds: ``type`` in ``[[sources]]`` -> the module implementing it.

One module per kind, imported only when a configuration uses it (boto3 stays out of the
server's import path otherwise). A new kind is a module exporting ``KIND`` and one line here.
"""

from __future__ import annotations

import importlib

from .base import SourceKind

__all__ = ["KINDS", "kind"]

KINDS: dict[str, str] = {
    "kinesis": "logsieve.sources.kinesis",
    "firehose": "logsieve.sources.firehose",
    "cloudwatch-logs": "logsieve.sources.cloudwatch_logs",
}


def kind(type_name: str) -> SourceKind:
    """The kind registered as ``type_name`` (a KeyError for unknown names)."""
    module = importlib.import_module(KINDS[type_name])
    found: SourceKind = module.KIND
    return found
