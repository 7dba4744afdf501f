"""The ``ec2`` wire protocol: Amazon EC2's dialect of Query, driven by botocore's model.

Requests are Query forms (``Action=CreateFlowLogs&Version=2016-11-15``), with two differences
botocore's ``EC2Serializer`` makes: every list is flattened (``ResourceId.1=vpc-1``,
``Filter.1.Name=x&Filter.1.Value.1=y``, never ``.member.``), and a member is sent under its
``queryName``, else its ``locationName`` with the first letter upper-cased, else its name.

Answers, as botocore's ``EC2QueryParser`` reads them: ``<OpResponse xmlns=...>`` holding
``<requestId>`` and the members directly (no ``<OpResult>``, no ``<ResponseMetadata>``), lists as
``<item>`` elements; errors as ``<Response><Errors><Error><Code/><Message/></Error></Errors>
<RequestID/></Response>``. A missing required parameter is ``MissingParameter``, a bad value
``InvalidParameterValue``, a refused signature ``AuthFailure`` (401), as EC2 words them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import botocore.model

from logsieve.errors import ServiceError

from .query import XML_CONTENT_TYPE, QueryProtocol, _text

__all__ = ["Ec2Protocol"]

_XML_CONTENT_TYPE = f"{XML_CONTENT_TYPE};charset=UTF-8"
_AUTH_FAILURE = ("AuthFailure", 401)
_CODES = {
    "UnrecognizedClientException": _AUTH_FAILURE,
    "InvalidSignatureException": _AUTH_FAILURE,
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 401),
}
_AUTH_MESSAGE = "AWS was not able to validate the provided access credentials"


class Ec2Protocol(QueryProtocol):
    """Amazon EC2's Query dialect for one botocore model (``ec2``)."""

    name: ClassVar[str] = "ec2"
    described: ClassVar[str] = "the EC2 Query protocol"
    validation_error: ClassVar[str] = "InvalidParameterValue"
    lazy_operations: ClassVar[bool] = True

    # -- requests ------------------------------------------------------------------------

    def request_key(self, name: str, member: botocore.model.Shape) -> str:
        serialization = member.serialization
        if "queryName" in serialization:
            return str(serialization["queryName"])
        wire = serialization.get("name")
        return wire[:1].upper() + wire[1:] if wire else name

    def flattened(self, shape: botocore.model.Shape) -> bool:
        return True

    def parse_request(self, operation_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """As Query, but a required top-level parameter that is absent is EC2's
        ``MissingParameter`` naming it as sent."""
        compiled = self.compiled.get(operation_name)
        shape = compiled.model.input_shape if compiled is not None else None
        if isinstance(shape, botocore.model.StructureShape):
            for required in shape.required_members:
                key = self.request_key(required, shape.members[required])
                if not any(k == key or k.startswith(key + ".") for k in params):
                    raise ServiceError(
                        "MissingParameter", f"The request must contain the parameter {key}"
                    )
        return super().parse_request(operation_name, params)

    # -- answers -------------------------------------------------------------------------

    def serialize_response(
        self, operation_name: str, result: Mapping[str, Any] | None, request_id: str
    ) -> bytes:
        shape = self.compiled[operation_name].model.output_shape
        body: list[str] = []
        if isinstance(shape, botocore.model.StructureShape):
            self._xml_members(result or {}, shape, body, "    ")
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{operation_name}Response xmlns="{self.namespace}/">\n'
            f"    <requestId>{request_id}</requestId>\n"
            + "".join(body)
            + f"</{operation_name}Response>\n"
        ).encode("utf-8")

    def serialize(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> tuple[int, dict[str, str], bytes]:
        body = self.serialize_response(operation, result, request_id)
        return 200, {"Content-Type": _XML_CONTENT_TYPE}, body

    def error_response(
        self, error: ServiceError, request_id: str
    ) -> tuple[int, dict[str, str], bytes]:
        code, status = self.error_code(error)
        message = error.message
        if (code, status) == _AUTH_FAILURE:
            message = _AUTH_MESSAGE
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{_text(code, 'string')}</Code>"
            f"<Message>{_text(message, 'string')}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>\n"
        )
        return status, {"Content-Type": _XML_CONTENT_TYPE}, body.encode("utf-8")

    def error_code(self, error: ServiceError) -> tuple[str, int]:
        known = _CODES.get(error.code)
        if known is not None:
            return known
        return super().error_code(error)

    def too_large(self, operation: str, limit: int) -> ServiceError:
        return ServiceError(
            "RequestLimitExceeded", f"Request body is larger than {limit} bytes.", 413
        )
