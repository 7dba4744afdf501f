"""``[server] tls_certfile``/``tls_keyfile``: the server takes HTTPS itself (Firehose only
delivers to HTTPS endpoints), with a self-signed certificate made here."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
import time
from pathlib import Path

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.server import ACCESS_KEY, SECRET_KEY, Server, free_port

from .helpers import toml_sources
from .test_firehose import KEY, _ok, awslogs_record, post


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_for_the_aws_api_and_the_firehose_endpoint(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    config = tmp_path / "logsieve.toml"
    config.write_text(
        '[server]\ntls_certfile = "cert.pem"\ntls_keyfile = "key.pem"\n'
        + toml_sources(
            {"name": "fh", "type": "firehose", "path": "/firehose/prod", "access_key": KEY}
        )
    )
    server = Server(tmp_path / "data", config=config, scheme="https").start()
    try:
        logs = boto3.client(
            "logs", endpoint_url=server.url, region_name="us-east-1", verify=str(cert),
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )  # fmt: skip
        logs.create_log_group(logGroupName="/tls")
        assert logs.describe_log_groups(logGroupNamePrefix="/tls")["logGroups"]
        now = int(time.time() * 1000)
        trusted = ssl.create_default_context(cafile=str(cert))
        _ok(post(server, [awslogs_record("/over-tls", "s", [(now, "secure")])], verify=trusted))
        assert [
            e["message"] for e in logs.filter_log_events(logGroupName="/over-tls")["events"]
        ] == ["secure"]
    finally:
        server.stop()


def test_a_missing_half_or_a_bad_certificate_is_one_line(tmp_path: Path) -> None:
    self_signed(tmp_path)
    for text, expected in [
        ('[server]\ntls_certfile = "cert.pem"\n', "needs both tls_certfile and tls_keyfile"),
        ('[server]\ntls_certfile = "key.pem"\ntls_keyfile = "cert.pem"\n',
         "cannot use the TLS certificate"),
    ]:  # fmt: skip
        config = tmp_path / "logsieve.toml"
        config.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "logsieve", "serve", "--config", str(config),
             "--data-dir", str(tmp_path / "d"), "--port", str(free_port())],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode != 0
        assert expected in done.stderr and "Traceback" not in done.stderr
