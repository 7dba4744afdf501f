"""The documents subscribers receive, byte for byte where AWS's layout is known."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from logsieve.sns import notifications
from logsieve.sns.messages import Message
from logsieve.sns.signing import Signer, canonical_string


def test_json_document_layout() -> None:
    fields = {
        "Type": "Notification",
        "MessageId": "m-1",
        "Message": 'quote " and 日本',
        "MessageAttributes": {"a": {"Type": "String", "Value": "b"}},
    }
    assert notifications.json_document(fields) == (
        "{\n"
        '  "Type" : "Notification",\n'
        '  "MessageId" : "m-1",\n'
        '  "Message" : "quote \\" and 日本",\n'
        '  "MessageAttributes" : {\n'
        '    "a" : {"Type":"String","Value":"b"}\n'
        "  }\n"
        "}"
    )


def test_canonical_strings() -> None:
    notification = {
        "Type": "Notification", "MessageId": "i", "TopicArn": "t", "Message": "m",
        "Timestamp": "ts", "SignatureVersion": "1",
    }  # fmt: skip
    assert canonical_string(notification) == (
        "Message\nm\nMessageId\ni\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"
    )
    assert canonical_string({**notification, "Subject": "s"}).startswith(
        "Message\nm\nMessageId\ni\nSubject\ns\nTimestamp\n"
    )
    confirmation = {
        "Type": "SubscriptionConfirmation", "MessageId": "i", "Token": "k", "TopicArn": "t",
        "Message": "m", "SubscribeURL": "u", "Timestamp": "ts",
    }  # fmt: skip
    assert canonical_string(confirmation) == (
        "Message\nm\nMessageId\ni\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\n"
        "Type\nSubscriptionConfirmation\n"
    )


def test_notification_signature_verifies_with_the_certificate(tmp_path: Path) -> None:
    signer = Signer(tmp_path)
    message = Message("id-1", "arn:aws:sns:us-east-1:123456789012:t", "body", "Subj",
                      timestamp_ms=1_741_573_000_123)  # fmt: skip
    fields = notifications.notification(
        message, "arn:aws:sns:us-east-1:123456789012:t:x", "http", signer, "http://h"
    )
    assert fields["Timestamp"] == "2025-03-10T02:16:40.123Z"
    assert fields["SigningCertURL"] == f"http://h/{signer.certificate_name}"
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem)
    certificate.public_key().verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(fields["Signature"]),
        canonical_string(fields).encode(),
        padding.PKCS1v15(),  # type: ignore[arg-type]
        hashes.SHA1(),  # type: ignore[arg-type]
    )
    # The same key comes back from the data directory.
    assert Signer(tmp_path).certificate_pem == signer.certificate_pem
    assert (tmp_path / "sns-signing-key.pem").stat().st_mode & 0o077 == 0


def test_email_texts() -> None:
    text = notifications.email_text("hello", "http://h/?Action=Unsubscribe&SubscriptionArn=s")
    assert text.startswith(
        "hello\n\n--\nIf you wish to stop receiving notifications from this topic, please click "
        "or visit the link below to unsubscribe:\nhttp://h/?Action=Unsubscribe&SubscriptionArn=s"
        "\n\nPlease do not reply directly to this email."
    )
    body, html = notifications.confirmation_email("arn:t", "http://h/?a=1&b=2")
    assert body.startswith("You have chosen to subscribe to the topic: \narn:t\n\n")
    assert 'href="http://h/?a=1&amp;b=2"' in html
