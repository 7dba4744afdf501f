"""The wire protocols logsieve speaks, by botocore's name for them.

Adding a protocol is one module implementing ``wire.WireProtocol`` and one line here, as in
botocore's ``SERIALIZERS`` table (``botocore/serialize.py``).
"""

from __future__ import annotations

from .awsjson import JsonProtocol
from .ec2query import Ec2Protocol
from .query import QueryProtocol
from .restjson import RestJsonProtocol
from .rpcv2cbor import RpcV2CborProtocol
from .wire import WireProtocol

__all__ = ["PROTOCOLS"]

PROTOCOLS: dict[str, type[WireProtocol]] = {
    "json": JsonProtocol,
    "rest-json": RestJsonProtocol,
    "query": QueryProtocol,
    "ec2": Ec2Protocol,
    "smithy-rpc-v2-cbor": RpcV2CborProtocol,
}
