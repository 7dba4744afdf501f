"""CloudWatch Logs semantics: groups, streams, PutLogEvents rules, reads, metric filters."""

from .context import LogsContext
from .service import LogsService

__all__ = ["LogsContext", "LogsService"]
