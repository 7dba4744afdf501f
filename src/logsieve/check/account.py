"""Read-only access to one account and region through boto3's standard credential chain."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import botocore.parsers
from botocore.config import Config

from .model import Caller, CannotRun, Unavailable

_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "UnauthorizedAccess", "AuthorizationError", "AuthFailure",
           "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken")  # fmt: skip
# What an endpoint without the API answers (logsieve's server before EC2 lands: the request is
# taken for another Query service, whose signature scope it does not match).
_NOT_OFFERED = ("InvalidAction", "UnknownOperationException", "NotImplemented")
_OTHER_SERVICE = "Credential should be scoped to correct service"


class Account:
    """Clients for one region; every read goes through :meth:`read`, which turns a refusal
    into ``CannotRun`` (the permission it lacked) and an API the endpoint lacks into
    ``Unavailable``."""

    def __init__(
        self, session: boto3.Session, region: str, endpoint_url: str | None = None
    ) -> None:
        self.session = session
        self.region = region
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self.account_id = ""  # from :meth:`caller`, once read

    @property
    def shown_id(self) -> str:
        """The account id for fix commands: the real one, or a placeholder to fill in."""
        return self.account_id or "<account>"

    def caller(self) -> Caller:
        """Whose account this is (sts:GetCallerIdentity, which AWS lets every principal call);
        a refusal or an endpoint without STS leaves it unknown, saying why, and the checks
        run all the same."""
        try:
            found = self.read("sts", "get_caller_identity")
        except CannotRun as refused:
            return Caller(unknown=f"missing permission {refused.permission} ({refused.message})")
        except Unavailable as missing:
            return Caller(unknown=str(missing))
        except botocore.exceptions.ClientError as error:
            return Caller(unknown=str(error))
        self.account_id = found.get("Account", "")
        return Caller(self.account_id, found.get("Arn", ""), found.get("UserId", ""))

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}),
            )
        return self._clients[service]

    def read(self, service: str, operation: str, key: str | None = None, **params: Any) -> Any:
        """One read; with ``key``, every page's ``key`` list joined (boto3's paginators)."""
        client = self.client(service)
        try:
            if key is None:
                return getattr(client, operation)(**params)
            if client.can_paginate(operation):
                items: list[Any] = []
                for page in client.get_paginator(operation).paginate(**params):
                    items.extend(page.get(key, []))
                return items
            return getattr(client, operation)(**params).get(key, [])
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            action = client.meta.method_to_api_mapping.get(operation, operation)
            permission = f"{client.meta.service_model.signing_name}:{action}"
            if code in _DENIED or "AccessDenied" in code:
                raise CannotRun(permission, str(error)) from None
            offered = code not in _NOT_OFFERED and status not in (404, 501)
            if not offered or _OTHER_SERVICE in str(error):
                raise Unavailable(f"{permission} is not offered by this endpoint") from None
            raise
        except botocore.parsers.ResponseParserError:  # moto's HTML 500 for what it lacks
            action = client.meta.method_to_api_mapping.get(operation, operation)
            raise Unavailable(f"{action} is not offered by this endpoint") from None

    def exists(self, service: str, operation: str, missing: tuple[str, ...], **params: Any) -> bool:
        """Whether a describe of one resource finds it (``missing``: its not-found codes)."""
        try:
            self.read(service, operation, **params)
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in missing:
                return False
            raise
        return True
