"""Lambda: the API subset to deploy and invoke Python functions, and the runtime that runs them.

Public: ``LambdaService`` (the API operations plus ``resolve`` / ``allows_logs`` / ``invoke`` for
the subscription dispatcher), the ``FunctionStore`` interface and its directory implementation,
``LogsSink`` (function logs into ``/aws/lambda/<name>``), ``worker_environment``, and the
``FunctionSpec`` / ``InvokeResult`` values shared with the runtime.
"""

from .environment import worker_environment
from .logsink import LogsSink
from .service import MAX_REQUEST_BYTES, LambdaService
from .spec import FunctionSpec, InvokeResult
from .store import DirectoryFunctionStore, FunctionRecord, FunctionStore

__all__ = [
    "MAX_REQUEST_BYTES",
    "DirectoryFunctionStore",
    "FunctionRecord",
    "FunctionSpec",
    "FunctionStore",
    "InvokeResult",
    "LambdaService",
    "LogsSink",
    "worker_environment",
]
