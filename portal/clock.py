"""The one clock: every part of the portal reads the time through `now()` (or `today()`).

Tests freeze or move it (`set`, `advance`, `reset`; the `clock` fixture in tests/conftest.py),
so a test sees a deadline pass without waiting. A running demo moves it with
`flask demo clock --advance 3d`, which writes an offset in seconds to CLOCK_OFFSET_FILE
(default `<instance>/clock_offset`): every process of that instance (web server, outbox worker, CLI)
reads the same file, so they all agree on the time. The file is looked at no more than once a
second (re-read when it changed) and ignored in production, where the clock is the system's.
See docs/architecture.md, "Time".
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from itsdangerous import TimestampSigner

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the firm's time zone: working days, references, notices
OFFSET_FILE_NAME = "clock_offset"

_fixed: datetime | None = None
_offset = timedelta(0)
_offset_file: Path | None = None
_file_cache: tuple[int, timedelta] | None = None  # (st_mtime_ns, offset read)
_file_checked = float("-inf")  # time.monotonic() of the last look at the file
RECHECK_SECONDS = 1.0  # now() runs many times a request: one stat a second is enough


@dataclass
class Reads:
    """What code watched by `watching` read of the clock."""

    time: bool = False  # now(): the result may change from one minute to the next
    date: bool = False  # today() only: it may change at midnight


_watch: ContextVar[Reads | None] = ContextVar("clock_reads", default=None)


@contextmanager
def watching() -> Iterator[Reads]:
    """Note what the code inside reads of the clock (the page cache keeps a page that read only
    the date for the day: portal/web/page_cache.py)."""
    reads = Reads()
    token = _watch.set(reads)
    try:
        yield reads
    finally:
        _watch.reset(token)


def note(reads: Reads) -> None:
    """Count `reads` (made earlier, by code whose answer was kept) as made now by the code
    being watched."""
    watched = _watch.get()
    if watched is not None:
        watched.time |= reads.time
        watched.date |= reads.date


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    reads = _watch.get()
    if reads is not None:
        reads.time = True
    return _current()


def today() -> date:
    """Today's date in the firm's time zone."""
    reads = _watch.get()
    if reads is not None:
        reads.date = True
    return _current().astimezone(LOCAL_TZ).date()


def _current() -> datetime:
    if _fixed is not None:
        return _fixed
    return datetime.now(UTC) + _offset + _file_offset()


def set(moment: datetime) -> None:  # noqa: A001 - read as clock.set(...)
    """Freeze the clock at `moment` (aware) until `reset()`."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    _fixed = moment.astimezone(UTC)


def advance(delta: timedelta) -> datetime:
    """Move the clock forward by `delta` (frozen or running); returns the new time."""
    global _fixed, _offset
    if _fixed is not None:
        _fixed += delta
    else:
        _offset += delta
    return now()


def reset() -> None:
    """Back to the system's time (plus the instance's offset file, if one is in use)."""
    global _fixed, _offset
    _fixed, _offset = None, timedelta(0)


class ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer on this clock instead of the system's, so a signed
    link made or checked after `advance` (a test, the demo) expires when the clock says.
    Use it as `URLSafeTimedSerializer(key, salt=..., signer=ClockSigner)`."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())


# -- the demo's shared offset ------------------------------------------------------------

def use_offset_file(path: Path | None) -> None:
    """Read the demo offset from `path` (None: no offset file, as in production)."""
    global _offset_file, _file_cache
    _offset_file, _file_cache = (Path(path) if path else None), None  # look again at once


def offset_file(config, instance_path: str | Path) -> Path:
    """CLOCK_OFFSET_FILE, or <instance>/clock_offset."""
    return Path(config.get("CLOCK_OFFSET_FILE") or Path(instance_path) / OFFSET_FILE_NAME)


def _file_offset() -> timedelta:
    global _file_cache, _file_checked
    if _offset_file is None:
        return timedelta(0)
    if _file_cache is not None and time.monotonic() - _file_checked < RECHECK_SECONDS:
        return _file_cache[1]
    _file_checked = time.monotonic()
    try:
        mtime = os.stat(_offset_file).st_mtime_ns
    except FileNotFoundError:
        _file_cache = (0, timedelta(0))
        return timedelta(0)
    if _file_cache is None or _file_cache[0] != mtime:
        _file_cache = (mtime, read_offset(_offset_file))
    return _file_cache[1]


def read_offset(path: Path) -> timedelta:
    """The offset stored in `path` (whole seconds); zero when absent or unreadable."""
    try:
        return timedelta(seconds=int(Path(path).read_text().strip() or 0))
    except (FileNotFoundError, ValueError):
        return timedelta(0)


def write_offset(path: Path, offset: timedelta) -> None:
    """Store `offset` for every process of the instance (atomically: write, then rename).
    This process sees it at once; the others within RECHECK_SECONDS."""
    global _file_cache
    _file_cache = None
    path = Path(path)
    if not offset:
        path.unlink(missing_ok=True)
        return
    scratch = path.with_suffix(".tmp")
    scratch.write_text(f"{int(offset.total_seconds())}\n")
    os.replace(scratch, path)


UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
         "m": timedelta(minutes=1), "s": timedelta(seconds=1)}


def parse_duration(text: str) -> timedelta:
    """'3d', '-2h', '1w', '90m', '45s' → timedelta; ValueError otherwise."""
    text = text.strip().lower()
    sign = -1 if text.startswith("-") else 1
    number, unit = text.lstrip("+-")[:-1], text[-1:]
    if unit not in UNITS or not number.isdigit():
        raise ValueError(f"not a duration: {text!r} (use e.g. 3d, 12h, 90m, 1w)")
    return sign * int(number) * UNITS[unit]
