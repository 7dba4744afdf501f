"""What Publish accepts: Subject, Message, MessageStructure and MessageAttributes rules.

Pure functions and one value type, so the same checks serve the API, PublishBatch entries and
``SnsService.publish_internal``. Wording and order follow AWS (evidence: aws-compat.md 6.1,
LocalStack's AWS-validated snapshots): an empty Subject or Message first, then the attributes
(``ParameterValueInvalid``), then the total size, then the JSON structure.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from logsieve.errors import ServiceError

from .arns import invalid

MAX_MESSAGE_BYTES = 262_144  # 256 KiB: body plus attribute names, types and values
MAX_SUBJECT_CHARS = 100  # AWS accepts exactly 100 and rejects 101
MAX_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME = 256
INVALID_VALUE = "InvalidParameterValueException"  # sent as ParameterValueInvalid

_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?")


@dataclass(frozen=True)
class Message:
    """One published message, as every subscription's delivery needs it."""

    message_id: str
    topic_arn: str
    body: str  # the ``default`` text (the whole Message without MessageStructure)
    subject: str | None = None
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    timestamp_ms: int = 0
    per_protocol: dict[str, str] = field(default_factory=dict)  # MessageStructure=json

    def for_protocol(self, protocol: str) -> str:
        """The text a subscription of ``protocol`` receives (its own JSON entry, or default)."""
        return self.per_protocol.get(protocol, self.body)


# Control characters (CR, LF, NEL, VT, FF, tab...), surrogates, and the Unicode line and
# paragraph separators U+2028/U+2029: "no line breaks or control characters" (AWS).
_NOT_IN_ONE_LINE = frozenset({"Cc", "Cs", "Zl", "Zp"})


def is_one_line(text: str) -> bool:
    """No line break or control character: what AWS accepts in a Subject or DisplayName."""
    return not any(unicodedata.category(ch) in _NOT_IN_ONE_LINE for ch in text)


def check_subject(subject: str | None) -> None:
    """1-100 characters without line breaks or other control characters."""
    if subject is None:
        return
    if not 1 <= len(subject) <= MAX_SUBJECT_CHARS or not is_one_line(subject):
        raise invalid("Subject")


def check_message(message: str | None) -> str:
    if not message:
        raise invalid("Empty message")
    return message


def _value_error(text: str) -> ServiceError:
    return ServiceError(INVALID_VALUE, text)


def check_attribute_name(name: str) -> None:
    if len(name.encode("utf-8")) > MAX_ATTRIBUTE_NAME:
        raise _value_error("Length of message attribute name must be less than 256 bytes.")
    if name.startswith("."):
        raise _value_error("Invalid message attribute name starting with character '.' was found.")
    if name.endswith("."):
        raise _value_error("Invalid message attribute name ending with character '.' was found.")
    if _ATTRIBUTE_NAME.fullmatch(name) is None:
        bad = next(ch for ch in name if _ATTRIBUTE_NAME.fullmatch(ch) is None)
        raise _value_error(
            f"Invalid non-alphanumeric character '#x{ord(bad):X}' was found in the message "
            "attribute name. Can only include alphanumeric characters, hyphens, underscores, "
            "or dots."
        )
    if ".." in name:
        raise _value_error("Message attribute name can not have successive '.' character.")


def check_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """Validate MessageAttributes (DataType present is checked by the model) and return them."""
    if not attributes:
        return {}
    if len(attributes) > MAX_ATTRIBUTES:
        raise _value_error(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    for name, value in attributes.items():
        check_attribute_name(name)
        data_type = str(value.get("DataType", ""))
        if _DATA_TYPE.fullmatch(data_type) is None:
            raise _value_error(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        binary = data_type.startswith("Binary")
        field_name = "BinaryValue" if binary else "StringValue"
        if value.get("StringValue") is None and value.get("BinaryValue") is None:
            raise _value_error(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{data_type}'."
            )
        if value.get(field_name) is None:
            raise _value_error(
                f"The message attribute '{name}' with type '{data_type}' must use field "
                f"'{'Binary' if binary else 'String'}'."
            )
        if not value[field_name]:
            raise _value_error(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{data_type}'."
            )
        if data_type.startswith("Number"):
            try:
                Decimal(value["StringValue"])
            except InvalidOperation:
                raise _value_error(
                    f"Could not cast message attribute '{name}' value to number."
                ) from None
    return {name: dict(value) for name, value in attributes.items()}


def size(message: str, attributes: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes counted against the 256 KiB limit: the body and every attribute part."""
    total = len(message.encode("utf-8"))
    for name, value in attributes.items():
        total += len(name.encode("utf-8")) + len(str(value.get("DataType", "")).encode("utf-8"))
        raw = value.get("StringValue")
        if raw is not None:
            total += len(str(raw).encode("utf-8"))
        blob = value.get("BinaryValue")
        if blob is not None:
            total += len(blob)
    return total


def check_size(message: str, attributes: Mapping[str, Mapping[str, Any]]) -> None:
    if size(message, attributes) > MAX_MESSAGE_BYTES:
        raise invalid("Message too long")


def parse_structure(message: str, structure: str | None) -> tuple[str, dict[str, str]]:
    """(default text, per-protocol texts) for a Message and its MessageStructure.

    With ``json``, the Message must be a JSON object whose ``default`` is a string; entries
    whose value is not a string are ignored, as AWS documents.
    """
    if structure is None:
        return message, {}
    if structure != "json":
        raise invalid("MessageStructure")
    try:
        parsed = json.loads(message)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise invalid("Message Structure - JSON message body failed to parse")
    entries = {key: value for key, value in parsed.items() if isinstance(value, str)}
    if "default" not in entries:
        raise invalid("Message Structure - No default entry in JSON message body")
    return entries["default"], entries


def notification_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """MessageAttributes as notifications carry them: ``{"Type": ..., "Value": ...}``, binary
    values base64-encoded."""
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        blob = value.get("BinaryValue")
        shown = (
            base64.b64encode(bytes(blob)).decode("ascii")
            if blob is not None
            else value.get("StringValue")
        )
        out[name] = {"Type": value["DataType"], "Value": shown}
    return out
