"""Errors of the shipping path: one line each, saying what went wrong and what to do."""

from __future__ import annotations

__all__ = ["Interrupted", "ShippingError"]


class ShippingError(Exception):
    """Sending cannot go on (bad credentials, missing log group, unreachable server, ...).

    The message is one line meant for the user; the CLI prints it as it is.
    """


class Interrupted(ShippingError):
    """A stop was requested while waiting to retry; nothing was lost, nothing committed."""
