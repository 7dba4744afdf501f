"""The ``awsQueryCompatible`` trait of AWS JSON 1.0 (CloudWatch, since botocore 1.42.7).

The requests are plain JSON 1.0 (``X-Amz-Target``, plus ``x-amzn-query-mode: true``), but a
service that moved from Query keeps its Query error codes: every error answer carries
``x-amzn-query-error: <Query code>;Sender`` (``Receiver`` for 5xx), which botocore reads to set
``Error.Code`` to the Query code and raise the modeled exception class; the body's ``__type``
names the error shape (``com.amazonaws.cloudwatch#InvalidParameterValueException``).
Services raise either the shape name or the Query code. ``JsonProtocol`` reads the trait from
its model and hands its errors to ``QueryErrors`` when the service has it.
"""

from __future__ import annotations

import botocore.model

from logsieve.errors import ServiceError

from .model import modeled_errors

__all__ = ["QueryErrors"]

#: The smithy validation error, which the model does not list: shape name, Query code.
_VALIDATION = ("ValidationException", "ValidationError")


class QueryErrors:
    """Error shapes of an awsQueryCompatible service: what ``__type``, status and
    ``x-amzn-query-error`` an error raised under a shape name or a Query code gets."""

    def __init__(self, model: botocore.model.ServiceModel) -> None:
        namespace = f"com.amazonaws.{model.service_name}#"
        # shape name or Query code -> (qualified __type, Query code, HTTP status)
        self._errors: dict[str, tuple[str, str, int]] = {}
        for error in modeled_errors(model):
            entry = (namespace + error.shape.name, error.code, error.status)
            self._errors[error.shape.name] = entry
            self._errors.setdefault(error.code, entry)
        validation = (namespace + _VALIDATION[0], _VALIDATION[1], 400)
        for code in _VALIDATION:
            self._errors.setdefault(code, validation)

    @staticmethod
    def applies(model: botocore.model.ServiceModel) -> bool:
        return "awsQueryCompatible" in model.metadata

    def translate(self, error: ServiceError) -> tuple[ServiceError, str | None]:
        """The error as the JSON body words it, and the ``x-amzn-query-error`` header value
        (None for errors the model does not know: auth, unknown operation, bad JSON)."""
        modeled = self._errors.get(error.code)
        if modeled is None:
            return error, None
        shape_type, code, status = modeled
        if error.status >= 500:
            status = error.status
        fault = "Sender" if status < 500 else "Receiver"
        return ServiceError(shape_type, error.message, status, error.extra), f"{code};{fault}"
