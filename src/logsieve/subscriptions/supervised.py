"""Keeping a long-running job (a subscription's pump, a log group's metric counter) running:
a fault restarts it from its committed position after a pause.

A store that fails (a full disk, a cluster that does not answer) is an expected condition
with a known cause, said in one line; anything else is a bug, logged with its traceback. The
pause doubles while faults repeat (a full disk would otherwise log every second) and falls
back to the first once the job has run a while without one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from logsieve.cluster import LeaseLost
from logsieve.storage import STORE_ERRORS

__all__ = ["supervised"]

log = logging.getLogger(__name__)

FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 8.0  # a freed disk is picked up within this
_STEADY_SECONDS = 60.0  # a job that ran this long without a fault starts its pauses afresh


async def supervised(
    run: Callable[[], Awaitable[None]],
    what: str,
    restarting: Callable[[], None],
    first_pause: float = FIRST_PAUSE_SECONDS,
) -> None:
    """Await ``run()`` again and again until cancelled or its lease is lost; ``what`` names
    the job in the log, ``restarting()`` is called before each pause (to show the state)."""
    pause = first_pause
    while True:
        started = time.monotonic()
        try:
            await run()
        except (asyncio.CancelledError, LeaseLost):
            raise
        except Exception as error:
            if time.monotonic() - started > _STEADY_SECONDS:
                pause = first_pause
            if isinstance(error, STORE_ERRORS):
                log.warning("%s: the store failed (%s); retrying in %g s", what, error, pause)
            else:
                log.exception("%s failed; restarting in %g s", what, pause)
        restarting()
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
