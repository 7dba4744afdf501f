"""The rate-limited log of refused requests: one line each up to a limit per key and reason
and in total, then one summary of what was held back when the window ends."""

from __future__ import annotations

import logging

import pytest

from logsieve.api.rejections import RejectionLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_lines_per_key_and_reason_are_limited_then_summed_up(
    caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    log = RejectionLog(logging.getLogger("test.rejections"), per_key=3, clock=clock)
    with caplog.at_level(logging.WARNING, "test.rejections"):
        for _ in range(10):
            log.rejected("AKIAONE", "mismatch", code="InvalidSignatureException")
        log.rejected("AKIAONE", "expired")  # another reason of the same key still shows
        assert _lines(caplog) == [
            "request rejected access_key_id=AKIAONE reason=mismatch code=InvalidSignatureException"
        ] * 3 + ["request rejected access_key_id=AKIAONE reason=expired"]
        caplog.clear()
        clock.now += 61
        log.rejected("AKIAONE", "mismatch")
    assert _lines(caplog) == [
        "requests rejected access_key_id=AKIAONE reason=mismatch suppressed=7 "
        "(similar lines held back within 60s)",
        "request rejected access_key_id=AKIAONE reason=mismatch",
    ]


def test_sprayed_keys_are_bounded_in_lines_and_memory(
    caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    log = RejectionLog(
        logging.getLogger("test.rejections"), per_key=5, total=20, max_keys=50, clock=clock
    )
    with caplog.at_level(logging.WARNING, "test.rejections"):
        for i in range(10_000):
            log.rejected(f"AKIA{i:016d}", "unknown-key")
        assert len(caplog.records) == 20
        assert len(log._window.per_key) <= 51  # the rest share one "(other)" entry
        caplog.clear()
        clock.now += 60
        log.flush()
    lines = _lines(caplog)
    assert len(lines) == 11  # ten busiest, then one line for all the others
    # 20 keys logged, 30 more tracked (one held back each), 9,950 shared the "(other)" entry
    assert 'access_key_id="(other)" reason=unknown-key suppressed=9950 ' in lines[0]
    assert lines[-1].startswith(
        "requests rejected access_key_id=(21 other keys and reasons) suppressed=21 "
    )


def test_values_that_could_forge_log_lines_are_quoted(
    caplog: pytest.LogCaptureFixture, clock: Clock
) -> None:
    log = RejectionLog(logging.getLogger("test.rejections"), clock=clock)
    with caplog.at_level(logging.WARNING, "test.rejections"):
        log.rejected("AKIA\nrequest rejected access_key_id=ADMIN", "mismatch", path="/a b")
    (line,) = _lines(caplog)
    assert "\n" not in line
    assert line == (
        'request rejected access_key_id="AKIA\\nrequest rejected access_key_id=ADMIN" '
        'reason=mismatch path="/a b"'
    )
