"""The one interface every wire protocol implements, and the request it sees.

``server`` knows nothing about JSON, REST or Query: it builds a ``WireRequest`` from the HTTP
request's head, asks each registered service's protocol how well it ``match``es (the way
Starlette's ``Router`` asks each ``Route``), reads the body for the best match, then has the
protocol ``parse`` it, runs the operation, and has the protocol ``serialize`` the result or
word the ``error``. botocore's own shape is the model: one serializer per protocol name,
picked from a table (``protocols.PROTOCOLS``).

What a protocol may route on is all in the request: the target header (JSON), the method and
path (REST-JSON, RPCv2 CBOR's ``/service/<S>/operation/<Op>``), the ``Action`` parameter
(Query, EC2), the content type, and the service the SigV4 credential scope names (``signed_for``),
which is how two protocols of one service (CloudWatch's JSON 1.0 and Query, both signed for
``monitoring``) and two services of one protocol (SNS and CloudWatch Query) tell apart.

What the next protocols need is here: JSON 1.0 with ``awsQueryCompatible`` is the ``json``
protocol reading that trait from its model, its ``error`` adding ``x-amzn-query-error:
<Code>;Sender`` from each error shape's query code (``model.modeled_errors``); CloudWatch's
``query`` is ``QueryProtocol`` for ``cloudwatch``, told from SNS by ``signed_for``; EC2's
dialect is a Query subclass (flattened lists, ``<requestId>`` and ``<Response><Errors>``
answers: ``serialize`` and ``error`` are given the request id); RPCv2 CBOR matches on the
path, as REST does, and names the operation in its ``Matched``.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Container, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import botocore.model

from logsieve.errors import ServiceError

from .bodies import too_large
from .model import CompiledOperation, LazyOperations, Node, compile_operations, protocol_model
from .validation import Renderer

__all__ = [
    "UNKNOWN_OPERATION_EXCEPTION",
    "Answer",
    "Match",
    "Matched",
    "WireProtocol",
    "WireRequest",
    "not_implemented",
]

UNKNOWN_OPERATION_EXCEPTION = "UnknownOperationException"

#: (HTTP status, headers, body): what a protocol answers with; the body of an event-stream
#: response (StartLiveTail) is an async iterator of frames, sent as they come.
Answer = tuple[int, dict[str, str], bytes | AsyncIterator[bytes]]


class Match(enum.IntEnum):
    """How well a request fits a service; the best wins, ties go to the first registered."""

    NONE = 0
    #: The service answers it, in its own error shape, when nothing fits better (JSON's
    #: ``POST /`` without a target).
    FALLBACK = 1
    #: The request is in this protocol but does not name this service (a form post signed
    #: for nobody we know; a target prefix no service has).
    PARTIAL = 2
    #: The request names this service: its target prefix, one of its routes, its scope.
    FULL = 3


@dataclass(frozen=True)
class Matched:
    """A protocol's verdict on a request's head: how well, and what the head already names
    (the operation of a target header or a route, and a route's path labels)."""

    level: Match
    operation: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


NO_MATCH = Matched(Match.NONE)


@dataclass
class WireRequest:
    """One HTTP request as the protocols see it: the head as sent (``path`` and ``query``
    still percent-encoded, ``headers`` looked up case-insensitively), the body once read,
    and what the chosen protocol matched on the head."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""
    matched: Matched = NO_MATCH

    @cached_property
    def target(self) -> str | None:
        """The ``X-Amz-Target`` header (JSON protocols), if any."""
        return self.headers.get("x-amz-target")

    @cached_property
    def signed(self) -> bool:
        """Whether the request carries a signature (header or presigned query) at all."""
        return "authorization" in self.headers or "X-Amz-Signature=" in self.query

    @cached_property
    def signed_for(self) -> str | None:
        """The service the SigV4 credential scope names (``.../sns/aws4_request``), if any."""
        auth = self.headers.get("authorization")
        if auth:
            start = auth.find("Credential=")
            text = auth[start + 11 :].split(",", 1)[0] if start >= 0 else ""
        else:
            start = self.query.find("X-Amz-Credential=")
            if start < 0:
                return None
            text = self.query[start + 17 :].split("&", 1)[0]
            text = text.replace("%2F", "/").replace("%2f", "/")
        parts = text.strip().split("/")
        return parts[3] if len(parts) == 5 else None


def not_implemented(operation: str) -> ServiceError:
    """A model operation no service implements (each protocol words it: Query's
    ``InvalidAction``, the JSON protocols' ``UnknownOperationException``)."""
    return ServiceError(
        UNKNOWN_OPERATION_EXCEPTION, f"logsieve does not implement {operation} yet."
    )


class WireProtocol(ABC):
    """One wire protocol for one botocore service model.

    Implementations are stateless after construction and shared between requests and
    threads. ``name`` is the protocol's key in ``protocols.PROTOCOLS`` and botocore's name
    for it (``metadata.protocol`` / ``metadata.protocols``).
    """

    name: ClassVar[str]
    #: The protocol as error messages name it ("the AWS JSON protocol").
    described: ClassVar[str]
    #: The code of a constraint violation unless the service says otherwise.
    validation_error: ClassVar[str] = "ValidationException"
    #: Whether the protocol routes by path, and so words the answer to a request no service
    #: matches (REST's 404); otherwise the first service does.
    routes_by_path: ClassVar[bool] = False
    #: Compile each operation on first use rather than all at startup (EC2's large model).
    lazy_operations: ClassVar[bool] = False

    def __init__(self, service_name: str, validation_error_code: str | None = None) -> None:
        """Load ``service_name``'s model (ValueError if it does not speak this protocol) and
        compile every operation up front, so nothing is mutated once requests arrive."""
        self.service_model: botocore.model.ServiceModel = protocol_model(
            service_name, self.name, self.described
        )
        self.validation_error_code = validation_error_code or self.validation_error
        #: Renders values in validation messages as Coral does.
        self.render = Renderer.for_model(self.service_model)
        #: Compiled shapes by name, shared by operations and error shapes.
        self.nodes: dict[str, Node] = {}
        self.compiled: Mapping[str, CompiledOperation] = (
            LazyOperations(self.service_model, self.nodes)
            if self.lazy_operations
            else compile_operations(self.service_model, self.nodes)
        )

    @property
    def signing_name(self) -> str:
        """The service a SigV4 credential scope must name (``logs``, ``monitoring``)."""
        return self.service_model.signing_name

    @abstractmethod
    def match(self, request: WireRequest) -> Matched:
        """How well the request's head fits this service (the body is not read yet)."""

    def operation(self, request: WireRequest) -> str:
        """The operation the request names as sent, unchecked ("" when none): what decides,
        before the signature is checked, whether an unsigned request is an anonymous one."""
        return request.matched.operation

    @abstractmethod
    def parse(
        self, request: WireRequest, implemented: Container[str]
    ) -> tuple[str, dict[str, Any]]:
        """The operation (checked against the model, then against ``implemented``: the
        protocol's unknown-operation error, then ``not_implemented``) and its parameters,
        type-checked and validated, keyed by model member name."""

    @abstractmethod
    def serialize(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> Answer:
        """The answer for an operation's result (Query and EC2 put the request id in it)."""

    @abstractmethod
    def error(self, error: ServiceError, request_id: str) -> Answer:
        """The answer for an error, as the SDKs read this protocol's errors."""

    def too_large(self, operation: str, limit: int) -> ServiceError:
        """What a body over ``limit`` bytes gets (``operation`` as the head names it)."""
        return too_large(limit)

    def not_found(self, request: WireRequest) -> ServiceError:
        """What a request no service matches gets, when this protocol words it."""
        return ServiceError(UNKNOWN_OPERATION_EXCEPTION, "", 404)
