"""Lambda's checks on a function's configuration that the API model does not express.

The model allows larger timeouts and memory sizes than Lambda accepts for a .zip function, and
says nothing about runtimes, packages or environment variables; these raise the errors Lambda
raises, worded as it words them.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from logsieve.errors import ServiceError

MAX_TIMEOUT = 900
MAX_MEMORY = 10_240
MAX_ENVIRONMENT_BYTES = 4096
_PYTHON3 = re.compile(r"python3\.\d+")
# Variables Lambda sets itself and refuses to let a function override.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message)


def check_runtime(runtime: str) -> str:
    """Only Python 3 runs here (in worker processes of the server's own interpreter)."""
    if not _PYTHON3.fullmatch(runtime):
        raise invalid(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
    return runtime


def check_limits(params: dict[str, Any]) -> None:
    """Timeout 1-900 s and MemorySize 128-10240 MB (the model's own minimums apply first)."""
    timeout = params.get("Timeout")
    if timeout is not None and timeout > MAX_TIMEOUT:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_TIMEOUT}",
        )
    memory = params.get("MemorySize")
    if memory is not None and memory > MAX_MEMORY:
        raise ServiceError(
            "ValidationException",
            "'MemorySize' value failed to satisfy constraint: Member must have value less "
            f"than or equal to {MAX_MEMORY}",
        )


def check_environment(variables: dict[str, str]) -> dict[str, str]:
    reserved = sorted(k for k in variables if k in RESERVED_VARIABLES)
    if reserved:
        raise invalid(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: {','.join(reserved)}"
        )
    measured = orjson.dumps(variables).decode("utf-8")
    if len(measured.encode("utf-8")) > MAX_ENVIRONMENT_BYTES:
        raise invalid(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: " + measured
        )
    return dict(variables)


def zip_package(code: dict[str, Any], package_type: str | None) -> bytes:
    """The .zip bytes of a CreateFunction ``Code`` / UpdateFunctionCode request.

    Only packages uploaded inline (``ZipFile``) are supported: there is no S3 to fetch from and
    no container runtime to run images.
    """
    if package_type == "Image" or code.get("ImageUri"):
        raise invalid(
            "logsieve runs .zip deployment packages only (PackageType Zip); container images "
            "are not supported."
        )
    archive = code.get("ZipFile")
    if archive is not None:
        return archive
    if code.get("S3Bucket") or code.get("S3Key"):
        raise invalid(
            "logsieve takes the deployment package inline only: upload it with ZipFile "
            "(aws lambda ... --zip-file fileb://function.zip); S3 code locations are not "
            "supported."
        )
    raise invalid("Please provide a source for function code.")
