"""Rendered pages kept per viewer until anything they show could have changed.

Rendering a list or a case file costs several milliseconds (SQL, the ORM, Jinja, translated
labels); serving the same bytes again costs a fraction of one. A page is kept under a key that
names everything it depends on:

* the viewer: user id, session token and the session's CSRF secret (a page is never served to
  another user, or to another session of the same user, whose forms need their own token);
* what was asked: path and query, and the htmx headers that choose page or partial;
* the language;
* the data version (`portal/db.py`): every committed change moves it, in the same transaction,
  so a page rendered from old data is never served once the change is visible.

And a page is kept only as long as what it read of the clock holds (`clock.watching`): a page
that read the time (a ballot closing at 17:00) for the minute it was rendered in; one that read
only the date (deadlines are days: "overdue", "due soon") for that day; one that read neither,
until the data change. Keying every page by the minute rendered each page afresh in every worker
once a minute: at 100,000 complaints the home page costs about 200 ms from scratch, and the
requests queued behind those renders were the slowest 1 % of all. A form's default time (the
list's "received at") is the one exception that is not read: `minute_input()` puts a mark in
the page, and every serving replaces it with the current minute.

`remember_value` keeps small answers the same way (who may see which complaint, by key), keyed
by the data version and the viewer's id only: they hold no form and no session's token.
`keep_shared` and `recall_shared` keep plain data that depend on the database alone (the signed-in
user's row, by session token: portal/auth_session.py), keyed by the data version.

Pages that carry flashed messages are neither served from nor stored in the cache. Each
process keeps its own cache (`PAGE_CACHE_SIZE` pages, at most `PAGE_CACHE_SECONDS` old);
`PAGE_CACHE_SIZE = 0` turns it off. Since the keys name the data version and a page names the
minute or day it holds for, the age is not what keeps an entry true; it bounds how long one
nobody asks for takes memory. A value (`remember_value`: the analytics' figures, a complaint's
visibility) follows the same rules and passes what it read of the clock on to the page that
shows it; a page whose minute has passed is rendered again from kept values, not from scratch.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cachetools import TTLCache
from flask import Flask, Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from portal import clock
from portal.db import data_version

_EXTENSION = "redress_page_cache"
_VARYING_HEADERS = ("HX-Request", "HX-Boosted", "HX-Target", "HX-History-Restore-Request")
_KEPT_HEADERS = ("Content-Type", "Vary", "Cache-Control")
# Random per process: no text a user typed into a page can contain it.
_MINUTE_MARK = f"minute-{secrets.token_hex(12)}".encode()


@dataclass(frozen=True)
class _Kept:
    """A page (its body and headers) or a value, and the minute or day it holds for."""

    content: object
    holds_for: tuple[str, object] | None  # ("minute", minute) or ("day", date) it was made in
    reads: clock.Reads

    def current(self) -> bool:
        return self.holds_for is None or self.holds_for[1] == _moment(self.holds_for[0])


@dataclass(frozen=True)
class _Page:
    body: bytes
    headers: tuple[tuple[str, str], ...]


def _moment(unit: str) -> object:
    if unit == "day":
        return clock.today()
    return clock.now().replace(second=0, microsecond=0)


def _kept(make: Callable[[], object]) -> _Kept:
    """`make()`'s result, kept for as long as what it read of the clock holds. The moment is
    taken first: what began in one minute holds for that minute at most."""
    minute, day = _moment("minute"), _moment("day")
    with clock.watching() as reads:
        made = make()
    holds_for = ("minute", minute) if reads.time else ("day", day) if reads.date else None
    return _Kept(made, holds_for, reads)


class _Store:
    def __init__(self, size: int, seconds: float) -> None:
        self._pages: TTLCache = TTLCache(maxsize=size, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        """A `_Kept` page or value, or what `keep_shared` kept."""
        with self._lock:
            return self._pages.get(key)

    def put(self, key: tuple, kept: Any) -> None:
        with self._lock:
            self._pages[key] = kept


def init_app(app: Flask) -> None:
    size = int(app.config.get("PAGE_CACHE_SIZE", 256))
    seconds = float(app.config.get("PAGE_CACHE_SECONDS", 600))
    app.extensions[_EXTENSION] = _Store(size, seconds) if size > 0 else None


def _data_version() -> int:
    """Read once per request: the read transaction sees one version throughout."""
    if "page_cache_version" not in g:
        g.page_cache_version = data_version()
    return g.page_cache_version


def _key() -> tuple | None:
    version = _data_version()
    if not current_user.is_authenticated:
        return None
    csrf = hashlib.sha256(str(session.get("csrf_token", "")).encode()).hexdigest()[:16]
    return (version, current_user.id, current_user.session_token, csrf, str(get_locale()),
            request.full_path,
            tuple(request.headers.get(name, "") for name in _VARYING_HEADERS))


def remember(render: Callable[[], Response | str]) -> Response:
    """The page `render` makes, from the cache when it was made for this viewer and data."""
    store: _Store | None = current_app.extensions.get(_EXTENSION)
    # Without a CSRF secret yet, this render creates one: its forms belong to this session only.
    if (store is None or request.method != "GET" or "_flashes" in session
            or "csrf_token" not in session):
        return make_response(render())
    key = _key()
    kept = store.get(key) if key is not None else None
    if kept is not None and kept.current():
        page: _Page = kept.content  # type: ignore[assignment]
        return Response(_filled(page.body), headers=list(page.headers))
    g.page_cache_marks = True
    try:
        rendered = _kept(lambda: make_response(render()))
    finally:
        g.page_cache_marks = False
    response: Response = rendered.content  # type: ignore[assignment]
    if response.is_streamed:
        return response
    body = response.get_data()
    if key is not None and response.status_code == 200:
        headers = tuple((name, value) for name, value in response.headers.items()
                        if name in _KEPT_HEADERS)
        store.put(key, replace(rendered, content=_Page(body, headers)))
    response.set_data(_filled(body))
    return response


def minute_input() -> str:
    """The current minute in the firm's time zone, as a datetime-local input's value: in a
    page being rendered for the cache, a mark that each serving replaces, so that a form's
    default time does not make the whole page last a minute only."""
    if g.get("page_cache_marks"):
        return _MINUTE_MARK.decode()
    return _minute_value()


def _minute_value() -> str:
    return clock.now().astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def _filled(body: bytes) -> bytes:
    if _MINUTE_MARK not in body:
        return body
    return body.replace(_MINUTE_MARK, _minute_value().encode())


def recall_shared(name: str, argument: object) -> object | None:
    """What `keep_shared` kept under (name, argument) at this data version, for any viewer."""
    store: _Store | None = current_app.extensions.get(_EXTENSION)
    return None if store is None else store.get(("shared", _data_version(), name, argument))


def keep_shared(name: str, argument: object, value: object) -> None:
    """Keep plain data that depend on the database alone (no viewer), until it changes."""
    store: _Store | None = current_app.extensions.get(_EXTENSION)
    if store is not None:
        store.put(("shared", _data_version(), name, argument), value)


def remember_value(name: str, argument: object, compute: Callable[[], object]) -> object:
    """`compute()`'s answer for this viewer, from the cache when the data has not changed since
    it was computed (nor the minute or day, if it read the clock). For answers that depend on
    nothing but the database, the clock and the viewer."""
    store: _Store | None = current_app.extensions.get(_EXTENSION)
    if store is None or request.method != "GET" or not current_user.is_authenticated:
        return compute()
    key = ("value", _data_version(), current_user.id, name, argument)
    kept = store.get(key)
    if kept is None or not kept.current():
        kept = _kept(compute)
        store.put(key, kept)
    clock.note(kept.reads)  # a page that shows the value holds no longer than the value
    return kept.content
