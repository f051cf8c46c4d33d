"""The outbox worker's periodic jobs (portal/commands/outbox.py) share one rule: run when the
interval has passed on the portal's clock since the last run, or when it never ran."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from portal import clock

log = logging.getLogger(__name__)


def run_if_due(last: datetime | None, tick: Callable[[], int], message: str,
               seconds: int | None = None) -> datetime | None:
    """Run `tick` (it returns how many things it did, logged with `message`) when `seconds`
    (default SLA_TICK_SECONDS) have passed since `last`; return when it last ran."""
    now = clock.now()
    every = seconds if seconds is not None else int(current_app.config.get("SLA_TICK_SECONDS",
                                                                           300))
    if last is not None and (now - last).total_seconds() < every:
        return last
    done = tick()
    if done:
        log.info(message, done)
    return now
