"""Message signatures, so SNS message validators can check that a delivery came from us.

AWS signs every HTTP/HTTPS, email-json and Lambda notification with an RSA key whose X.509
certificate it serves at ``SigningCertURL``. A receiver rebuilds the canonical string from the
message's fields (``Message\\n<v>\\nMessageId\\n<v>\\n[Subject\\n<v>\\n]Timestamp\\n<v>\\n
TopicArn\\n<v>\\nType\\n<v>\\n``; confirmations sign ``SubscribeURL`` and ``Token`` instead of
``Subject``), fetches the certificate and verifies ``Signature`` with SHA1withRSA
(``SignatureVersion`` 1) or SHA256withRSA (2). We do the same with a per-server key generated
into the data directory (kept across restarts, so certificates cached by receivers stay valid),
and serve the certificate from this server.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
from collections.abc import Mapping
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from logsieve.durable import write_atomic

KEY_FILE = "sns-signing-key.pem"
CERT_FILE = "sns-signing-cert.pem"
CERT_DAYS = 3650

# The fields each message type signs, in AWS's (alphabetical) order.
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                       "Type")  # fmt: skip


def canonical_string(message: Mapping[str, str]) -> str:
    """The string AWS signs for a message (``Subject`` only when present)."""
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None)


class Signer:
    """The server's signing key and certificate (created on first use, then reused)."""

    def __init__(self, directory: Path, common_name: str = "sns.logsieve.local") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
        if key_path.exists() and cert_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            cert = _self_signed(key, common_name)
            write_atomic(
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        self._key = key
        self.certificate_pem: bytes = cert.public_bytes(serialization.Encoding.PEM)
        digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        # AWS's certificate URLs look like .../SimpleNotificationService-<32 hex>.pem
        self.certificate_name = f"SimpleNotificationService-{digest[:32]}.pem"

    def sign(self, message: Mapping[str, str], version: str = "1") -> str:
        """Base64 signature of the message's canonical string (version 1: SHA1, 2: SHA256)."""
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self._key.sign(
            canonical_string(message).encode("utf-8"), padding.PKCS1v15(), algorithm
        )
        return base64.b64encode(signature).decode("ascii")


def _self_signed(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "logsieve"),
        ]
    )
    now = _dt.datetime.now(_dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=CERT_DAYS))
        .sign(key, hashes.SHA256())
    )
