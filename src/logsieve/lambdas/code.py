"""Deployment packages: check a .zip the way Lambda does and unpack it safely.

An uploaded zip is untrusted input. Entries that would land outside the target directory
(``../x``, absolute paths, symlinks pointing out) are refused instead of written ("zip slip"),
and the unpacked size is counted as bytes are written, not taken from the archive's own claims,
so a zip bomb stops at Lambda's limit (250 MB unzipped). Both fail with the error AWS gives for
a package it cannot use.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from logsieve.errors import ServiceError

MAX_UNZIPPED_BYTES = 262_144_000  # Lambda's limit for a function's unpacked code (250 MB)
_CHUNK = 1 << 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CodeInfo:
    """What FunctionConfiguration reports about the code: size and base64 SHA-256."""

    sha256: str
    size: int


def describe(archive: bytes) -> CodeInfo:
    """``CodeSha256`` and ``CodeSize`` as Lambda computes them: over the zip as uploaded."""
    return CodeInfo(
        base64.b64encode(hashlib.sha256(archive).digest()).decode("ascii"), len(archive)
    )


def unzip_error() -> ServiceError:
    return ServiceError(
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )


def too_big_error(limit: int = MAX_UNZIPPED_BYTES) -> ServiceError:
    return ServiceError(
        "InvalidParameterValueException", f"Unzipped size must be smaller than {limit} bytes"
    )


def unpack(archive: bytes, dest: Path, limit: int = MAX_UNZIPPED_BYTES) -> None:
    """Extract ``archive`` into the (new, empty) directory ``dest``, or raise ``ServiceError``.

    On failure ``dest`` may hold part of the package: the caller discards it.
    """
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise unzip_error() from None
    root = dest.resolve()
    written = 0
    with bundle:
        entries = bundle.infolist()
        if sum(e.file_size for e in entries) > limit:
            raise too_big_error(limit)
        for entry in entries:
            target = _target(root, entry.filename)
            if target is None:
                log.info("event=zip_rejected reason=outside entry=%r", entry.filename)
                raise unzip_error()
            mode = entry.external_attr >> 16
            try:
                if target == root:
                    continue
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                elif stat.S_ISLNK(mode):
                    _link(bundle, entry, root, target)
                else:
                    written = _extract(bundle, entry, target, mode, written, limit)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError):
                # corrupt data, unsupported compression or encryption, a name the filesystem
                # refuses: Lambda cannot use the package either
                log.info("event=zip_rejected reason=unreadable entry=%r", entry.filename)
                raise unzip_error() from None


def _target(root: Path, name: str) -> Path | None:
    """Where an entry goes (``root`` itself for ``./``), or None when its name leaves ``root``."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts:
        return root
    if parts[0] == "/" or parts[0].endswith(":") or ".." in parts:  # absolute, C:, ../
        return None
    target = root.joinpath(*parts)
    # A symlink unpacked earlier could redirect a later entry: resolve through it.
    parent = target.parent.resolve()
    if parent != root and root not in parent.parents:
        return None
    return parent / target.name


def _link(bundle: zipfile.ZipFile, entry: zipfile.ZipInfo, root: Path, target: Path) -> None:
    """A symlink entry, kept only when it points inside the package."""
    pointee = bundle.read(entry).decode("utf-8", "replace")
    resolved = Path(os.path.normpath(target.parent / pointee))
    if os.path.isabs(pointee) or (resolved != root and root not in resolved.parents):
        log.info("event=zip_rejected reason=symlink_outside entry=%r", entry.filename)
        raise unzip_error()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(pointee)


def _extract(
    bundle: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    target: Path,
    mode: int,
    written: int,
    limit: int,
) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    with bundle.open(entry) as source, open(target, "wb") as sink:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise too_big_error(limit)
            sink.write(chunk)
    # Keep the permission bits the archive records (executables stay executable) but always
    # let the owner read and write; archives made on Windows record none.
    target.chmod((mode & 0o777 or 0o644) | 0o600)
    return written


def fingerprint(directory: Path) -> CodeInfo:
    """A stand-in for ``CodeSha256``/``CodeSize`` of code that was never zipped (functions
    declared in the config file): hashes file names, sizes and modification times, so it
    changes whenever a file does, without reading every file."""
    digest = hashlib.sha256()
    size = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        info = path.stat()
        size += info.st_size
        digest.update(
            f"{path.relative_to(directory)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode()
        )
    return CodeInfo(base64.b64encode(digest.digest()).decode("ascii"), size)
