"""The typed error every service raises; the API turns it into AWS's error shape."""

from __future__ import annotations

from typing import Any


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
