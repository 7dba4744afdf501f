"""One check for "this pattern is rejected, with this message, at a sane position"."""

from __future__ import annotations

import pytest

from logsieve.patterns import PatternError, compile


def assert_rejected(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as err:
        compile(pattern)
    assert message in err.value.message
    assert 0 <= err.value.position <= len(pattern)
