"""The Lambda service: the API subset clients deploy and invoke functions with, and the calls
the subscription dispatcher makes to deliver log data to them.

Plain values in, plain values out, ``ServiceError`` for AWS errors: no HTTP here (the REST-JSON
layer in ``api/`` maps members to paths, headers and bodies). Management operations are
serialized by one lock; invocations take none.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from logsieve.errors import Operation, ServiceError

from . import policy, rules
from .code import describe
from .declared import DeclaredFunction
from .functions import Catalogue, lambda_timestamp, new_revision, not_found
from .invocations import Invoker, Runtime, event_bytes, response
from .names import LATEST, parse_function_name
from .spec import FunctionSpec, InvokeResult
from .store import FunctionRecord, FunctionStore, deployment_of

# A request body (a base64 zip inside JSON) over this is refused before it is parsed; it is the
# 50 MB zip limit once base64-encoded, and AWS's own figure.
MAX_REQUEST_BYTES = 69_905_067
LIST_PAGE = 50  # ListFunctions returns at most 50 functions per call, whatever MaxItems says

log = logging.getLogger(__name__)


def _precondition(params: dict[str, Any], record: FunctionRecord) -> None:
    expected = params.get("RevisionId")
    if expected is not None and expected != record.revision_id:
        raise ServiceError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id",
            412,
        )


class LambdaService:
    """Functions (create, read, update, delete), their resource policies, and invocations."""

    def __init__(
        self,
        store: FunctionStore,
        runtime: Runtime,
        region: str,
        account_id: str,
        declared: Iterable[DeclaredFunction] = (),
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.store = store
        self.runtime = runtime
        self.functions = Catalogue(store, region, account_id, declared)
        self.invoker = Invoker(runtime)
        self._lock = threading.Lock()
        store.watch(self._changed_elsewhere)
        self.operations: dict[str, Operation] = {
            "CreateFunction": self.create_function,
            "GetFunction": self.get_function,
            "GetFunctionConfiguration": self.get_function_configuration,
            "ListFunctions": self.list_functions,
            "DeleteFunction": self.delete_function,
            "UpdateFunctionCode": self.update_function_code,
            "UpdateFunctionConfiguration": self.update_function_configuration,
            "AddPermission": self.add_permission,
            "RemovePermission": self.remove_permission,
            "GetPolicy": self.get_policy,
            "Invoke": self.invoke_operation,
        }

    # -- Python API (the subscription dispatcher) ------------------------------------------

    def resolve(self, arn: str) -> FunctionSpec | None:
        """The function a subscription's destination ARN names, or None.

        Takes ``arn:aws:lambda:<region>:<account>:function:<name>`` with an optional
        ``:$LATEST`` qualifier; another region, account or qualifier names nothing here.
        """
        ref = parse_function_name(arn)
        if ref is None or not ref.is_arn or ref.region is None or ref.account is None:
            return None
        if not self.functions.ours(ref) or ref.qualifier not in (None, LATEST):
            return None
        return self.functions.spec(ref.name)

    def allows_logs(self, arn: str, source_arn: str) -> bool:
        """Whether CloudWatch Logs may invoke the function for ``source_arn`` (a log group
        ARN): its resource policy must allow ``logs.amazonaws.com`` (or the regional
        ``logs.<region>.amazonaws.com``), honouring SourceArn/SourceAccount conditions.
        Functions declared in the config file need no policy."""
        spec = self.resolve(arn)
        if spec is None:
            return False
        if spec.name in self.functions.declared:
            return True
        record = self.functions.records.get(spec.name)
        if record is None:
            return False
        parts = source_arn.split(":")
        account = parts[4] if len(parts) > 5 and parts[0] == "arn" else None
        services = ("logs.amazonaws.com", f"logs.{self.region}.amazonaws.com")
        return policy.allows_service(record.policy, services, source_arn, account)

    def invoke(self, spec: FunctionSpec, event: bytes) -> InvokeResult:
        """Run the function on ``event`` (JSON bytes) and wait for the outcome. Thread-safe."""
        return self.invoker.run(spec, event)

    def close(self) -> None:
        self.invoker.close()

    # -- create, read, delete --------------------------------------------------------------

    def create_function(self, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.functions.reference(params["FunctionName"])
        if not self.functions.ours(ref) or ref.qualifier:
            raise rules.invalid(
                f"FunctionName {params['FunctionName']} does not name a function in region "
                f"{self.region} of account {self.account_id}."
            )
        name = ref.name
        archive = rules.zip_package(params["Code"], params.get("PackageType"))
        runtime, handler = params.get("Runtime"), params.get("Handler")
        if not runtime or not handler:
            raise rules.invalid(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages."
            )
        rules.check_runtime(runtime)
        rules.check_limits(params)
        environment = rules.check_environment(
            (params.get("Environment") or {}).get("Variables") or {}
        )
        with self._lock:
            if self.functions.exists(name):
                raise ServiceError(
                    "ResourceConflictException", f"Function already exist: {name}", 409
                )
            version = self.store.add_code(name, archive)
            code = describe(archive)
            record = FunctionRecord(
                name=name,
                runtime=runtime,
                role=params["Role"],
                handler=handler,
                code_version=version,
                code_sha256=code.sha256,
                code_size=code.size,
                last_modified=lambda_timestamp(),
                revision_id=new_revision(),
                description=params.get("Description") or "",
                timeout=params.get("Timeout") or 3,
                memory_size=params.get("MemorySize") or 128,
                environment=environment,
                tags=dict(params.get("Tags") or {}),
                architectures=tuple(params.get("Architectures") or ("x86_64",)),
            )
            record = dataclasses.replace(record, deployment=deployment_of(record))
            try:
                self.store.save(record)
            except BaseException:
                self.store.delete(name)
                raise
            self.functions.put(record)
        log.info("event=lambda_created function=%s", name)
        return self.functions.configuration(record)

    def get_function(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.functions.find(params["FunctionName"], params.get("Qualifier"))
        out: dict[str, Any] = {
            "Configuration": self.functions.configuration(record),
            # No Location: the package is not downloadable from here (it is unpacked on disk).
            "Code": {"RepositoryType": "S3"},
        }
        if record.tags:
            out["Tags"] = dict(record.tags)
        return out

    def get_function_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.functions.find(params["FunctionName"], params.get("Qualifier"))
        return self.functions.configuration(record)

    def list_functions(self, params: dict[str, Any]) -> dict[str, Any]:
        names = self.functions.names()
        marker = params.get("Marker")
        if marker:
            after = _decode_marker(marker)
            names = [n for n in names if n > after]
        limit = min(params.get("MaxItems") or LIST_PAGE, LIST_PAGE)
        page = names[:limit]
        records = [r for n in page if (r := self.functions.records.get(n)) is not None]
        out: dict[str, Any] = {"Functions": [self.functions.configuration(r) for r in records]}
        if len(names) > limit:
            out["NextMarker"] = _encode_marker(page[-1])
        return out

    def delete_function(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record, qualifier = self.functions.lookup(
                params["FunctionName"], params.get("Qualifier")
            )
            self.functions.check_editable(record)
            if qualifier == LATEST:
                raise rules.invalid(
                    "$LATEST version cannot be deleted without deleting the function."
                )
            if qualifier is not None:
                raise not_found(self.functions.arn(record.name, qualifier))
            self.store.delete(record.name)
            self.functions.remove(record.name)
        self.runtime.retire(record.name)
        log.info("event=lambda_deleted function=%s", record.name)
        return {"StatusCode": 204}

    def _changed_elsewhere(self, name: str, record: FunctionRecord | None) -> None:
        """Apply a change another node made (reported by the store's watch)."""
        with self._lock:
            if name in self.functions.declared:
                return
            current = self.functions.records.get(name)
            if record is None:
                if current is None:
                    return
                self.functions.remove(name)
            elif current is not None and current.revision_id == record.revision_id:
                return
            else:
                self.functions.put(record)
                if current is None or current.deployed == record.deployed:
                    return
        self.runtime.retire(name)
        log.info("event=lambda_changed_elsewhere function=%s deleted=%s", name, record is None)

    # -- updates ---------------------------------------------------------------------------

    def update_function_code(self, params: dict[str, Any]) -> dict[str, Any]:
        archive = rules.zip_package(params, None)
        with self._lock:
            record = self.functions.editable(params["FunctionName"])
            _precondition(params, record)
            code = describe(archive)
            if params.get("DryRun"):
                changed = dataclasses.replace(record, code_sha256=code.sha256, code_size=code.size)
                return self.functions.configuration(changed)
            architectures = tuple(params.get("Architectures") or record.architectures)
            if code.sha256 == record.code_sha256:
                # The same package: its files are on disk already, and warm workers running
                # them stay (unless the architecture changed).
                updated = self._commit(dataclasses.replace(record, architectures=architectures))
                return self.functions.configuration(updated)
            version = self.store.add_code(record.name, archive)
            updated = dataclasses.replace(
                record,
                code_version=version,
                code_sha256=code.sha256,
                code_size=code.size,
                architectures=architectures,
            )
            updated = self._commit(
                updated, lambda: self.store.discard_code(record.name, {record.code_version})
            )
            # The previous version stays on disk for invocations that already started with it.
            self.store.discard_code(record.name, {version, record.code_version})
        return self.functions.configuration(updated)

    def update_function_configuration(self, params: dict[str, Any]) -> dict[str, Any]:
        rules.check_limits(params)
        changes: dict[str, Any] = {}
        if params.get("Runtime") is not None:
            changes["runtime"] = rules.check_runtime(params["Runtime"])
        if "Environment" in params:
            variables = params["Environment"].get("Variables") or {}
            changes["environment"] = rules.check_environment(variables)
        for member, attribute in (
            ("Role", "role"),
            ("Handler", "handler"),
            ("Description", "description"),
            ("Timeout", "timeout"),
            ("MemorySize", "memory_size"),
        ):
            if params.get(member) is not None:
                changes[attribute] = params[member]
        with self._lock:
            record = self.functions.editable(params["FunctionName"])
            _precondition(params, record)
            updated = self._commit(dataclasses.replace(record, **changes))
        return self.functions.configuration(updated)

    def _commit(
        self, record: FunctionRecord, undo: Callable[[], None] | None = None
    ) -> FunctionRecord:
        """Store a changed function under a new revision; its warm workers are retired only if
        what they run changed (``deployment_of``): an unchanged re-put keeps them warm."""
        previous = self.functions.records.get(record.name)
        record = dataclasses.replace(
            record,
            last_modified=lambda_timestamp(),
            revision_id=new_revision(),
            deployment=deployment_of(record),
        )
        try:
            self.store.save(record)
        except BaseException:
            if undo is not None:
                undo()
            raise
        self.functions.put(record)
        if previous is None or previous.deployed != record.deployed:
            self.runtime.retire(record.name)
        return record

    # -- resource policy -------------------------------------------------------------------

    def add_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self.functions.editable(params["FunctionName"], params.get("Qualifier"))
            _precondition(params, record)
            statement = policy.statement(params, self.functions.arn(record.name))
            document = policy.add(record.policy, statement)
            self._save_policy(record, document)
        return {"Statement": policy.dumps(statement)}

    def remove_permission(self, params: dict[str, Any]) -> None:
        with self._lock:
            record = self.functions.editable(params["FunctionName"], params.get("Qualifier"))
            _precondition(params, record)
            document = policy.remove(record.policy, params["StatementId"])
            self._save_policy(record, document)

    def get_policy(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.functions.find(params["FunctionName"], params.get("Qualifier"))
        if not record.policy or record.name in self.functions.declared:
            raise ServiceError(
                "ResourceNotFoundException", "The resource you requested does not exist.", 404
            )
        return {"Policy": policy.dumps(record.policy), "RevisionId": record.revision_id}

    def _save_policy(self, record: FunctionRecord, document: dict[str, Any] | None) -> None:
        updated = dataclasses.replace(record, policy=document, revision_id=new_revision())
        self.store.save(updated)
        self.functions.put(updated)

    # -- Invoke ----------------------------------------------------------------------------

    def invoke_operation(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.functions.find(params["FunctionName"], params.get("Qualifier"))
        spec = self.functions.spec(record.name)
        if spec is None:
            raise not_found(self.functions.arn(record.name))
        invocation_type = params.get("InvocationType") or "RequestResponse"
        event = event_bytes(params.get("Payload"), invocation_type)
        if invocation_type == "DryRun":
            return {"StatusCode": 204}
        if invocation_type == "Event":
            self.invoker.submit(spec, event)
            return {"StatusCode": 202}
        tail = params.get("LogType") == "Tail"
        return response(self.invoker.run(spec, event, tail), tail)


_MARKER_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,170}")  # what a function's name may be


def _encode_marker(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def _decode_marker(marker: str) -> str:
    """The function name a Marker resumes after; only what ``_encode_marker`` writes: the
    canonical spelling of a function name (any base64 text is not a marker)."""
    try:
        name = base64.b64decode(marker.encode("ascii"), b"-_", validate=True).decode("utf-8")
        if _encode_marker(name) != marker or not _MARKER_NAME.fullmatch(name):
            raise ValueError(marker)
        return name
    except (binascii.Error, UnicodeError, ValueError):
        raise rules.invalid(f"Invalid Marker: {marker}") from None
