"""The environment every function worker starts with: this server as the AWS endpoint.

A handler's boto3 calls (``logs``, ``sns``, ``kinesis``...) then land on logsieve, signed with
the server's own first key pair, in the server's region.
"""

from __future__ import annotations

from logsieve.config import Config, endpoint_url


def worker_environment(config: Config) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": endpoint_url(config),
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
    }
    if config.credentials:
        credential = config.credentials[0]
        env["AWS_ACCESS_KEY_ID"] = credential.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = credential.secret_access_key
    return env
