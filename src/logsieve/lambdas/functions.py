"""The function catalogue: functions created through the API and declared in the config file.

Holds the current record of every function, builds the ``FunctionSpec`` the runtime runs and
the ``FunctionConfiguration`` the API shows, and finds a function from whatever a caller names
it by (name, partial or full ARN, qualifier). Writes go through the ``FunctionStore``; the
caller serializes them. Reads take no lock (a dict lookup is atomic), so invocations never wait
for a deployment.

A function declared in the config file runs its code from disk as it is: when a file in its
code directory changes (names, sizes, modification times; looked at most once a second per
function, by whoever asks for it then), it gets a new revision, so the next invocation starts a
fresh worker with the new code, as an API update would.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from logsieve.errors import ServiceError

from .code import CodeInfo, fingerprint
from .declared import DeclaredFunction
from .names import LATEST, FunctionRef, function_arn, parse_function_name
from .spec import FunctionSpec
from .store import FunctionRecord, FunctionStore

DEFAULT_CONCURRENCY = 4  # worker processes per API-created function
RECHECK_SECONDS = 1.0  # a declared function's code directory is looked at this often at most


log = logging.getLogger(__name__)


def lambda_timestamp(epoch: float | None = None) -> str:
    """``LastModified`` as Lambda writes it: ``2024-01-01T00:00:00.000+0000``."""
    epoch = time.time() if epoch is None else epoch
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return f"{whole}.{int(epoch * 1000) % 1000:03d}+0000"


def new_revision() -> str:
    return str(uuid.uuid4())


def not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Function not found: {arn}", 404)


class Catalogue:
    """Every function by name, with its spec; the declared ones are read-only."""

    def __init__(
        self,
        store: FunctionStore,
        region: str,
        account_id: str,
        declared: Iterable[DeclaredFunction] = (),
    ) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self.records: dict[str, FunctionRecord] = {}
        self.specs: dict[str, FunctionSpec] = {}
        self.declared: dict[str, DeclaredFunction] = {d.name: d for d in declared}
        self._checked: dict[str, float] = {}  # declared name -> when its code was last looked at
        self._checking = threading.Lock()
        for record in store.load():
            if record.name in self.declared:
                continue  # the config file wins; the stored one is back once undeclared
            self.put(record)
        for function in self.declared.values():
            self.records[function.name] = self._declared_record(function)
            self.specs[function.name] = self._declared_spec(function)
            self._checked[function.name] = time.monotonic()

    def spec(self, name: str) -> FunctionSpec | None:
        """The function's spec for an invocation, reloaded first if it is declared in the
        config file and its code changed on disk."""
        if name in self.declared:
            self.refresh(name)
        elif name not in self.specs:
            self.read_through(name)
        return self.specs.get(name)

    def read_through(self, name: str) -> FunctionRecord | None:
        """The record of a name not known here, from the store (another node may have just
        created it: the store's watch reports it soon, this at once)."""
        record = self.store.get(name)
        if record is not None and name not in self.declared:
            self.put(record)
        return record

    def refresh(self, name: str) -> None:
        """Give a declared function a new revision if its code directory changed (at most one
        look per ``RECHECK_SECONDS``; a look already under way is not waited for)."""
        now = time.monotonic()
        if now - self._checked.get(name, 0.0) < RECHECK_SECONDS:
            return
        if not self._checking.acquire(blocking=False):
            return
        try:
            self._checked[name] = now
            record = self.records.get(name)
            function = self.declared[name]
            try:
                code = fingerprint(function.code_dir)
            except OSError as exc:
                log.warning("event=lambda_code_unreadable function=%s error=%s", name, exc)
                return
            if record is None or code.sha256 == record.code_sha256:
                return
            self.records[name] = self._reloaded(record, code)
            self.specs[name] = self._declared_spec(function)
            log.info("event=lambda_code_reloaded function=%s code_dir=%s", name, function.code_dir)
        finally:
            self._checking.release()

    def _reloaded(self, record: FunctionRecord, code: CodeInfo) -> FunctionRecord:
        return dataclasses.replace(
            record,
            code_sha256=code.sha256,
            code_size=code.size,
            last_modified=lambda_timestamp(),
            revision_id=new_revision(),
        )

    # -- names -----------------------------------------------------------------------------

    def arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self.region, self.account_id, name, qualifier)

    def reference(self, function_name: str, qualifier: str | None = None) -> FunctionRef:
        """What an API caller names, with the ``Qualifier`` parameter folded in."""
        ref = parse_function_name(function_name)
        if ref is None:
            raise not_found(self.arn(function_name))
        if ref.qualifier and qualifier and ref.qualifier != qualifier:
            raise ServiceError(
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        return FunctionRef(
            ref.name, ref.qualifier or qualifier, ref.region, ref.account, ref.is_arn
        )

    def ours(self, ref: FunctionRef) -> bool:
        """Whether the reference is in this server's region and account."""
        return ref.region in (None, self.region) and ref.account in (None, self.account_id)

    def lookup(
        self, function_name: str, qualifier: str | None = None
    ) -> tuple[FunctionRecord, str | None]:
        """The function an API call names, whatever the qualifier, and the qualifier."""
        ref = self.reference(function_name, qualifier)
        if ref.name in self.declared and self.ours(ref):
            self.refresh(ref.name)
        record = self.records.get(ref.name) if self.ours(ref) else None
        if record is None and self.ours(ref):
            record = self.read_through(ref.name)
        if record is None:
            region, account = ref.region or self.region, ref.account or self.account_id
            raise not_found(function_arn(region, account, ref.name, ref.qualifier))
        return record, ref.qualifier

    def find(self, function_name: str, qualifier: str | None = None) -> FunctionRecord:
        """The function an API call names, at ``$LATEST`` (the only version there is)."""
        record, qualifier = self.lookup(function_name, qualifier)
        if qualifier not in (None, LATEST):
            raise not_found(self.arn(record.name, qualifier))
        return record

    def editable(self, function_name: str, qualifier: str | None = None) -> FunctionRecord:
        """Like ``find``, refusing functions declared in the config file."""
        record = self.find(function_name, qualifier)
        self.check_editable(record)
        return record

    def check_editable(self, record: FunctionRecord) -> None:
        declared = self.declared.get(record.name)
        if declared is not None:
            where = f"the config file {declared.source}" if declared.source else "the config file"
            raise ServiceError(
                "ResourceConflictException",
                f"Function {record.name} is declared in {where}; change it there, it cannot be "
                "modified through the API.",
                409,
            )

    def exists(self, name: str) -> bool:
        return name in self.records or self.read_through(name) is not None

    # -- changes ---------------------------------------------------------------------------

    def put(self, record: FunctionRecord) -> None:
        self.records[record.name] = record
        self.specs[record.name] = FunctionSpec(
            name=record.name,
            arn=self.arn(record.name),
            handler=record.handler,
            code_dir=self.store.code_dir(record.name, record.code_version),
            runtime=record.runtime,
            environment=dict(record.environment),
            timeout=float(record.timeout),
            memory_mb=record.memory_size,
            max_concurrency=DEFAULT_CONCURRENCY,
            revision=record.deployed,
        )

    def remove(self, name: str) -> None:
        self.records.pop(name, None)
        self.specs.pop(name, None)

    # -- views -----------------------------------------------------------------------------

    def configuration(self, record: FunctionRecord) -> dict[str, Any]:
        """``FunctionConfiguration`` with the fields Lambda returns for a .zip function."""
        out: dict[str, Any] = {
            "FunctionName": record.name,
            "FunctionArn": self.arn(record.name),
            "Runtime": record.runtime,
            "Role": record.role,
            "Handler": record.handler,
            "CodeSize": record.code_size,
            "Description": record.description,
            "Timeout": record.timeout,
            "MemorySize": record.memory_size,
            "LastModified": record.last_modified,
            "CodeSha256": record.code_sha256,
            "Version": LATEST,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": record.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(record.architectures),
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{record.name}"},
        }
        if record.environment:
            out["Environment"] = {"Variables": dict(record.environment)}
        return out

    def names(self) -> list[str]:
        return sorted(self.records)

    # -- declared functions ----------------------------------------------------------------

    def _declared_record(self, function: DeclaredFunction) -> FunctionRecord:
        code = fingerprint(function.code_dir)
        source = function.source or "the config file"
        return FunctionRecord(
            name=function.name,
            runtime=f"python3.{sys.version_info.minor}",
            role=f"arn:aws:iam::{self.account_id}:role/logsieve-local",
            handler=function.handler,
            code_version="",
            code_sha256=code.sha256,
            code_size=code.size,
            last_modified=lambda_timestamp(),
            revision_id=new_revision(),
            description=f"Declared in {source}; code in {function.code_dir}"[:256],
            timeout=max(1, round(function.timeout)),
            memory_size=function.memory_mb,
            environment=dict(function.environment),
        )

    def _declared_spec(self, function: DeclaredFunction) -> FunctionSpec:
        return FunctionSpec(
            name=function.name,
            arn=self.arn(function.name),
            handler=function.handler,
            code_dir=function.code_dir,
            runtime=f"python3.{sys.version_info.minor}",
            environment=dict(function.environment),
            timeout=function.timeout,
            memory_mb=function.memory_mb,
            max_concurrency=function.max_concurrency,
            revision=self.records[function.name].revision_id,
        )
