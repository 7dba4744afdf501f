"""Unpacking deployment packages: what lands on disk, and what is refused."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest

from logsieve.errors import ServiceError
from logsieve.lambdas.code import describe, fingerprint, unpack

from .helpers import make_zip

UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."


def refused(archive: bytes, dest: Path, limit: int | None = None) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        if limit is None:
            unpack(archive, dest)
        else:
            unpack(archive, dest, limit)
    assert info.value.code == "InvalidParameterValueException"
    assert info.value.status == 400
    return info.value


def test_files_directories_links_and_modes(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("app.py", "def handler(e, c): return e\n")
        bundle.writestr("pkg/__init__.py", "")
        bundle.writestr(zipfile.ZipInfo("empty/"), "")
        script = zipfile.ZipInfo("bin/tool")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        bundle.writestr(script, "#!/bin/sh\n")
        link = zipfile.ZipInfo("pkg/alias.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "../app.py")
    unpack(buffer.getvalue(), tmp_path)
    assert (tmp_path / "app.py").read_text() == "def handler(e, c): return e\n"
    assert (tmp_path / "pkg" / "__init__.py").is_file()
    assert (tmp_path / "empty").is_dir()
    assert (tmp_path / "bin" / "tool").stat().st_mode & 0o111
    assert (tmp_path / "pkg" / "alias.py").is_symlink()
    assert (tmp_path / "pkg" / "alias.py").read_text() == (tmp_path / "app.py").read_text()


def test_dot_slash_and_backslash_names(tmp_path: Path) -> None:
    unpack(make_zip({"./": "", "./a.py": "a", "dir\\b.py": "b"}), tmp_path)
    assert (tmp_path / "a.py").read_text() == "a"
    assert (tmp_path / "dir" / "b.py").read_text() == "b"


@pytest.mark.parametrize(
    "name",
    ["../evil.py", "a/../../evil.py", "/etc/evil.py", "..\\evil.py", "C:/evil.py", "ok/../../x"],
)
def test_zip_slip_is_refused(tmp_path: Path, name: str) -> None:
    dest = tmp_path / "code"
    dest.mkdir()
    error = refused(make_zip({"fine.py": "", name: "pwned"}), dest)
    assert error.message == UNZIP_ERROR
    assert not (tmp_path / "evil.py").exists()
    assert not list(tmp_path.parent.glob("evil.py"))


def test_symlinks_out_of_the_package_are_refused(tmp_path: Path) -> None:
    dest = tmp_path / "code"
    dest.mkdir()
    for target in ("/etc/passwd", "../../outside", "../code/../../x"):
        error = refused(make_zip({}, links={"link": target}), dest)
        assert error.message == UNZIP_ERROR
    assert not (dest / "link").exists()


def test_writing_through_an_inner_symlink_stays_inside(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        link = zipfile.ZipInfo("up")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, ".")
        bundle.writestr("up/z.py", "z")
    unpack(buffer.getvalue(), tmp_path)
    assert (tmp_path / "z.py").read_text() == "z"


def test_not_a_zip(tmp_path: Path) -> None:
    assert refused(b"this is not a zip", tmp_path).message == UNZIP_ERROR
    assert refused(b"", tmp_path).message == UNZIP_ERROR


def test_corrupt_member(tmp_path: Path) -> None:
    archive = bytearray(make_zip({"a.py": "x" * 1000}))
    archive[40:60] = b"\x00" * 20  # inside the compressed data of the only member
    assert refused(bytes(archive), tmp_path).message == UNZIP_ERROR


def test_declared_unzipped_size_over_the_limit(tmp_path: Path) -> None:
    error = refused(make_zip({"big.bin": b"\0" * 5000}), tmp_path, limit=4096)
    assert error.message == "Unzipped size must be smaller than 4096 bytes"


def test_zip_bomb_lying_about_its_size_is_refused(tmp_path: Path) -> None:
    archive = bytearray(make_zip({"bomb.bin": b"\0" * 100_000}))
    # Rewrite the recorded uncompressed size (local header and central directory) to 10 bytes:
    # extraction stops at the recorded size, so the data fails its CRC instead of filling
    # the disk.
    real = (100_000).to_bytes(4, "little")
    assert archive.count(real) == 2
    archive = archive.replace(real, (10).to_bytes(4, "little"))
    assert refused(bytes(archive), tmp_path, limit=50_000).message == UNZIP_ERROR
    assert sum(f.stat().st_size for f in tmp_path.rglob("*") if f.is_file()) <= 10


def test_sizes_add_up_across_entries(tmp_path: Path) -> None:
    archive = make_zip({"a.bin": b"\0" * 3000, "b.bin": b"\0" * 3000})
    assert refused(archive, tmp_path, limit=5000).message.startswith("Unzipped size")


def test_real_limit_is_lambdas() -> None:
    archive = make_zip({"big.bin": b"\0" * 262_144_001})
    with pytest.raises(ServiceError) as info:
        unpack(archive, Path("/nonexistent-never-written"))
    assert info.value.message == "Unzipped size must be smaller than 262144000 bytes"


def test_describe_is_sha256_of_the_zip() -> None:
    archive = make_zip({"a.py": "a"})
    info = describe(archive)
    assert info.size == len(archive)
    assert info.sha256 == base64.b64encode(hashlib.sha256(archive).digest()).decode()


def test_fingerprint_changes_with_the_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("one")
    first = fingerprint(tmp_path)
    assert first.size == 3
    (tmp_path / "a.py").write_text("three")
    second = fingerprint(tmp_path)
    assert second.size == 5
    assert second.sha256 != first.sha256
