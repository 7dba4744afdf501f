"""What the benchmarks share: report-header facts, progress output, synthetic addresses."""

from __future__ import annotations

import platform
import random
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return ""


def package_versions(names: tuple[str, ...]) -> list[str]:
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} ?")
    return found


def progress(text: str) -> None:
    """Progress goes to stderr so the Markdown report on stdout stays clean."""
    print(text, file=sys.stderr, flush=True)


# Addresses stay inside the documentation ranges the samples use.
DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")


def vary_ip(rng: random.Random, ip: str) -> str:
    """Another address in the same documentation range as ``ip`` (others unchanged)."""
    for net in DOC_NETS:
        if ip.startswith(net):
            return net + str(rng.randint(1, 254))
    if ip.startswith("2001:db8:"):
        return f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0x10000):x}"
    return ip
