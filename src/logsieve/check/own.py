"""``logsieve check`` against the server itself, for the console's Checks page.

The console (a lower layer) gets :func:`own_checks`' callable from the composition root: it
runs every check through boto3 at the URL the page was asked on, signed with one of the
server's own key pairs, exactly as ``logsieve check --endpoint-url`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import boto3

from logsieve.config import Credential

from .account import Account
from .checks import run_checks
from .model import Caller, Result

__all__ = ["own_checks"]


def own_checks(
    credentials: Sequence[Credential], region: str
) -> Callable[[str], tuple[Caller, list[Result]]] | None:
    """``run(endpoint_url)``: whose account it is and every check's result, signed with the
    first key pair (None: the server has none, so nothing could sign)."""
    if not credentials:
        return None
    key = credentials[0]

    def run(endpoint_url: str) -> tuple[Caller, list[Result]]:
        session = boto3.Session(
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_access_key,
            region_name=region,
        )
        account = Account(session, region, endpoint_url)
        return account.caller(), run_checks(account)

    return run
