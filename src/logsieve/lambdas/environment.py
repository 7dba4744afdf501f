"""The environment every function worker starts with: this server as the AWS endpoint.

A handler's boto3 calls (``logs``, ``sns``, ``kinesis``...) then land on logsieve, in the
server's region, signed with the function's own key pair (``keys.FunctionKeys``, added per
worker by the runtime), never with the server's.
"""

from __future__ import annotations

from logsieve.config import Config, endpoint_url


def worker_environment(config: Config) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url(config),
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
    }
