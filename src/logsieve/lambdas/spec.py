"""What the runtime needs to know about a function, and what one invocation returns.

Shared by the Lambda API (``lambdas.service``: functions created through the API or declared in
the config file) and the runtime (``lambdas.runtime``: worker processes that run handlers), so
neither depends on the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FunctionSpec:
    """A deployable function: where its code is and how to run it."""

    name: str
    arn: str  # arn:aws:lambda:<region>:<account>:function:<name>
    handler: str  # "module.function" (a dotted module path is allowed: "pkg.mod.fn")
    code_dir: Path  # unpacked code; first on the worker's sys.path (bundled deps importable)
    runtime: str = "python3.11"
    environment: dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0  # seconds, as AWS's default
    memory_mb: int = 128
    max_concurrency: int = 4  # worker processes at most for this function
    revision: str = ""  # changes whenever code or configuration changes: workers restart


@dataclass(frozen=True)
class InvokeResult:
    """The outcome of one invocation, in the terms Lambda's Invoke response uses."""

    request_id: str
    payload: bytes  # JSON of the return value, or AWS's error document on failure
    function_error: str | None = None  # "Unhandled" when the handler raised, timed out or crashed
    log_tail: str = ""  # the last 4 KB of what the invocation logged (X-Amz-Log-Result)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.function_error is None
