"""Stopping ``logsieve serve`` with Ctrl-C or SIGTERM is a clean exit, not an error."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.cli.serving import serve_fresh


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_shuts_down_gracefully_and_exits_zero(tmp_path: Path, sig: int) -> None:
    server = serve_fresh(tmp_path)
    try:
        server.wait_listening()
        assert server.process is not None
        server.process.send_signal(sig)
        code = server.wait_exit(timeout=20)
        assert code == 0, server.output
        assert "Aborted" not in server.output
        assert "Traceback" not in server.output
        assert server.output.rstrip().endswith("logsieve stopped"), server.output
    finally:
        server.stop()
