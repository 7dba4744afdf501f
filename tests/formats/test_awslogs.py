"""The awslogs envelope: AWS's sample decodes, and encoding reproduces AWS's bytes."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from logsieve.formats.awslogs import (
    CONTROL_MESSAGE,
    EnvelopeError,
    LogEvent,
    control_message,
    data_message,
    decode,
    decode_any,
    encode,
    encode_lambda_event,
)


def test_sample_lambda_event_decodes_and_reencodes_identically(samples: Path) -> None:
    raw = (samples / "lambda-event-cloudtrail.json").read_bytes()
    (payload,) = decode_any(raw)
    assert payload.to_dict() == json.loads(
        (samples / "lambda-event-cloudtrail.decoded.json").read_text()
    )
    assert encode_lambda_event(payload) == json.loads(raw)  # same gzip bytes as the sample


def test_data_message_shape_and_key_order() -> None:
    events = [LogEvent("1" * 56, 5, "a b", {"x": "a"}), LogEvent("2" * 56, 6, "c")]
    payload = data_message("123456789012", "/g", "s", ["f"], events)
    text = payload.to_json().decode()
    assert text.startswith('{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup"')
    assert '"extractedFields":{"x":"a"}' in text
    assert "extractedFields" not in json.loads(text)["logEvents"][1]
    blob = encode(payload)
    assert blob[:2] == b"\x1f\x8b" and json.loads(gzip.decompress(blob)) == payload.to_dict()
    assert encode_lambda_event(payload)["awslogs"]["data"].startswith("H4sIAAAAAAAAA")
    assert decode(blob) == payload


def test_control_message() -> None:
    payload = control_message("Kinesis stream", 1438485463442)
    assert payload.to_dict() == {
        "messageType": CONTROL_MESSAGE,
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": 1438485463442,
                "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
            }
        ],
    }


def test_every_input_form(samples: Path) -> None:
    payload = data_message("1", "/g", "s", ["f"], [LogEvent("1", 1, "m")])
    blob = encode(payload)
    b64 = base64.b64encode(blob)
    kinesis = json.dumps({"Records": [{"kinesis": {"data": b64.decode()}}] * 2}).encode()
    firehose = json.dumps({"records": [{"recordId": "1", "data": b64.decode()}]}).encode()
    assert decode_any(blob) == [payload]
    assert decode_any(b64) == [payload]
    assert decode_any(json.dumps(b64.decode()).encode()) == [payload]
    assert decode_any(kinesis) == [payload, payload]
    assert decode_any(firehose) == [payload]
    assert decode_any(payload.to_json()) == [payload]


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"not base64 !!!", "not base64"),
        (base64.b64encode(b"plain text"), "not gzip"),
        (gzip.compress(b"not json", mtime=0), "not JSON"),
        (gzip.compress(b'{"messageType": "DATA_MESSAGE"}', mtime=0), "missing or invalid"),
        (b'{"something": "else"}', "not an awslogs envelope"),
    ],
)
def test_errors_say_which_layer_failed(blob: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        decode_any(blob)
