"""What every service hands the API: its operations, and the typed error they raise, which
the API turns into AWS's error shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: One AWS operation of a service: the validated parameters in, the result members out
#: (None for an empty result), or a ``ServiceError``.
Operation = Callable[[dict[str, Any]], dict[str, Any] | None]


class ServiceError(Exception):
    """An AWS-shaped client or server error.

    ``code`` is the AWS error code (``ResourceNotFoundException``), sent as ``__type`` in the
    body and as the ``X-Amzn-ErrorType`` header; ``message`` is AWS's wording; ``status`` the
    HTTP status; ``extra`` holds modeled extra members (``expectedSequenceToken``...).
    """

    def __init__(
        self, code: str, message: str, status: int = 400, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}


class ConfigError(Exception):
    """A configuration mistake, worded as one line: where, what is wrong, what to do.

    The CLI prints ``str(error)`` and exits; it never shows a traceback for these. Lives here,
    not in ``config``, so the modules that parse their own config tables (channels, alert
    rules) can raise it without importing the whole configuration loader.
    """
