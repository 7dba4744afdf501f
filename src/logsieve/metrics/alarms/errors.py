"""The CloudWatch errors alarms raise, by the model's exception shape names (the protocols send
their query codes: ``InvalidParameterValue``, ``ResourceNotFound``...)."""

from __future__ import annotations

from logsieve.errors import ServiceError

INVALID_VALUE = "InvalidParameterValueException"
INVALID_COMBINATION = "InvalidParameterCombinationException"
MISSING = "MissingRequiredParameterException"
INVALID_TOKEN = "InvalidNextToken"
INVALID_FORMAT = "InvalidFormatFault"
NOT_FOUND = "ResourceNotFound"
TAGS_NOT_FOUND = "ResourceNotFoundException"


def invalid(message: str) -> ServiceError:
    return ServiceError(INVALID_VALUE, message)


def combination(message: str) -> ServiceError:
    return ServiceError(INVALID_COMBINATION, message)


def missing(name: str) -> ServiceError:
    return ServiceError(MISSING, f"The parameter {name} is required.")


def not_found(message: str = "") -> ServiceError:
    return ServiceError(NOT_FOUND, message, 404)
