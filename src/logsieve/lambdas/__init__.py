"""Lambda: the API subset to deploy and invoke Python functions, and the runtime that runs them.

Public: ``LambdaService`` (the API operations plus ``resolve`` / ``allows_logs`` / ``invoke`` for
the subscription dispatcher), the ``FunctionStore`` interface and its directory implementation,
``LogsSink`` (function logs into ``/aws/lambda/<name>``), ``worker_environment``,
``FunctionKeys`` / ``first_known`` (each function's own key pair, and SigV4's lookup over the
configured and the issued keys), ``Sandbox`` / ``protect_server`` (what isolation workers get,
and the server's own process made non-dumpable), and the
``FunctionSpec`` / ``InvokeResult`` values shared with the runtime.
"""

from .environment import worker_environment
from .keys import FunctionKeys, first_known
from .logsink import LogsSink
from .sandbox import Sandbox, protect_server
from .service import MAX_REQUEST_BYTES, LambdaService
from .spec import FunctionSpec, InvokeResult
from .store import DirectoryFunctionStore, FunctionRecord, FunctionStore

__all__ = [
    "MAX_REQUEST_BYTES",
    "DirectoryFunctionStore",
    "FunctionKeys",
    "FunctionRecord",
    "FunctionSpec",
    "FunctionStore",
    "InvokeResult",
    "LambdaService",
    "LogsSink",
    "Sandbox",
    "first_known",
    "protect_server",
    "worker_environment",
]
