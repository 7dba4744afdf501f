"""CloudWatch clients for the tests: boto3 as shipped (JSON 1.0), and botocore forced to the
Query or RPCv2 CBOR protocol by rewriting the model's protocol list, as an older botocore
(≤ 1.42.6, Query only) or another SDK would send."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from tests.server import ACCESS_KEY, SECRET_KEY, Server


def cloudwatch(server: Server, protocol: str | None = None, retries: int = 1) -> Any:
    """A CloudWatch client for ``server``; ``protocol`` forces "query" or
    "smithy-rpc-v2-cbor" (None: what botocore picks, JSON 1.0)."""
    session = botocore.session.get_session()
    if protocol is not None:
        loader = session.get_component("data_loader")
        original = loader.load_service_model

        def load(name: str, type_name: str, api_version: str | None = None) -> Any:
            data = original(name, type_name, api_version)
            if name == "cloudwatch" and type_name == "service-2":
                data = copy.deepcopy(data)
                data["metadata"]["protocol"] = protocol
                data["metadata"]["protocols"] = [protocol]
            return data

        loader.load_service_model = load
    return boto3.Session(botocore_session=session).client(
        "cloudwatch",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": retries, "mode": "standard"}),
    )
