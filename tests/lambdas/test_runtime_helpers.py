"""The /proc readers of the test helpers survive a process that exits while being read."""

import io

import pytest

from tests.lambdas import runtime_helpers


class _VanishingStat(io.StringIO):
    """A /proc file whose process exited after open(): the kernel answers read() with ESRCH."""

    def read(self, *args: object) -> str:
        raise ProcessLookupError(3, "No such process")


def test_a_process_that_exits_between_open_and_read_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime_helpers, "open", lambda *a, **k: _VanishingStat(), raising=False)
    assert runtime_helpers.gone(123456)
