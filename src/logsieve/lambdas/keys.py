"""Access keys the server issues to its functions, instead of handing them its own.

A function's key is derived from a server secret and the function's ARN (HMAC-SHA256), so it
is the same after a restart and reveals nothing about the server's own key pair. The server
accepts it on the AWS APIs (a handler's boto3 calls keep working), and nowhere else: the
operator routes (``/_logsieve/*``) take only the configured keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable

SecretLookup = Callable[[str], "str | None"]


class FunctionKeys:
    """Issues one key pair per function and answers SigV4's key lookup for them."""

    def __init__(self, master: str | None = None) -> None:
        # Without a configured key pair, keys only last as long as this process.
        self._master = (master or secrets.token_hex(32)).encode()
        self._issued: dict[str, tuple[str, str]] = {}  # key id -> (secret, function ARN)
        self._lock = threading.Lock()

    def _derive(self, purpose: str, arn: str) -> bytes:
        message = f"logsieve/{purpose}\0{arn}".encode()
        return hmac.new(self._master, message, hashlib.sha256).digest()

    def issue(self, arn: str) -> tuple[str, str]:
        """The (access key id, secret access key) of the function ``arn``."""
        key_id = "AKIA" + base64.b32encode(self._derive("key-id", arn)).decode()[:16]
        secret = base64.b64encode(self._derive("secret", arn)).decode()[:40]
        with self._lock:
            self._issued[key_id] = (secret, arn)
        return key_id, secret

    def environment(self, arn: str) -> dict[str, str]:
        """The variables boto3 and the AWS CLI read credentials from."""
        key_id, secret = self.issue(arn)
        return {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}

    def secret_for(self, access_key_id: str) -> str | None:
        with self._lock:
            issued = self._issued.get(access_key_id)
        return issued[0] if issued else None

    def owner(self, access_key_id: str) -> str | None:
        """The ARN of the function a key was issued to (for log lines)."""
        with self._lock:
            issued = self._issued.get(access_key_id)
        return issued[1] if issued else None


def first_known(*lookups: SecretLookup) -> SecretLookup:
    """One SigV4 key lookup over several: the first that knows the key id answers."""

    def secret_for(access_key_id: str) -> str | None:
        for lookup in lookups:
            secret = lookup(access_key_id)
            if secret is not None:
                return secret
        return None

    return secret_for
