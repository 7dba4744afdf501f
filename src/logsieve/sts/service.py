"""GetCallerIdentity: the account, ARN and unique id of the key that signed the call.

The answer is the principal CloudTrail records for the same key (``identities`` gives its
``userIdentity``), so "who am I" and "who did it" never disagree: an IAM user for a key with
``user_name`` in the config, the function's role session for a function's own key, and the
IAM user ``logsieve`` for a key without a user name. Needs no permission, as on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The calling key's CloudTrail ``userIdentity`` (``accountId``, ``arn``, ``principalId``...).
Identities = Callable[[str], dict[str, Any]]


class StsService:
    def __init__(self, identities: Identities) -> None:
        self.identities = identities
        #: Operations given the signing key's id as well as their parameters.
        self.of_caller = {"GetCallerIdentity": self.get_caller_identity}

    def get_caller_identity(self, params: dict[str, Any], access_key_id: str) -> dict[str, Any]:
        identity = self.identities(access_key_id)
        return {
            "UserId": identity["principalId"],
            "Account": identity["accountId"],
            "Arn": identity["arn"],
        }
