"""The vendored front-end files are exactly those VENDOR.md records (version, source, sha256)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import logsieve.console

VENDOR = Path(logsieve.console.__file__).parent / "static" / "vendor"


def recorded() -> dict[str, str]:
    table = (VENDOR / "VENDOR.md").read_text()
    rows = re.findall(r"^\| (\S+) \|.*\| ([0-9a-f]{64}) \|$", table, re.M)
    return dict(rows)


def test_every_vendored_file_is_recorded_with_its_sha256() -> None:
    files = {p.name for p in VENDOR.iterdir() if p.name != "VENDOR.md"}
    table = recorded()
    assert set(table) == files
    for name, digest in table.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_htmx_is_pinned_to_major_version_4() -> None:
    """htmx 4's SSE syntax (hx-sse:connect) differs from htmx 2's: the base page loads v4."""
    assert 'version="4.' in (VENDOR / "htmx-4.0.1.min.js").read_text()
    base = (VENDOR.parent.parent / "templates" / "base.html.j2").read_text()
    assert "vendor/htmx-4.0.1.min.js" in base
