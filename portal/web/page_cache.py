"""Rendered pages kept per viewer until anything they show could have changed.

Rendering a list or a case file costs several milliseconds (SQL, the ORM, Jinja, translated
labels); serving the same bytes again costs a fraction of one. A page is kept under a key that
names everything it depends on:

* the viewer: user id, session token and the session's CSRF secret (a page is never served to
  another user, or to another session of the same user, whose forms need their own token);
* what was asked: path and query, and the htmx headers that choose page or partial;
* the language, and the minute on the portal's clock (pages say "overdue", "due soon");
* the data version (`portal/db.py`): every committed change moves it, in the same transaction,
  so a page rendered from old data is never served once the change is visible.

`remember_value` keeps small answers the same way (who may see which complaint, by key), keyed
by the data version and the viewer's id only: they hold no form and no session's token.
`keep_shared` and `recall_shared` keep plain data that depend on the database alone (the signed-in
user's row, by session token: portal/auth_session.py), keyed by the data version.

Pages that carry flashed messages are neither served from nor stored in the cache. Each
process keeps its own cache (`PAGE_CACHE_SIZE` pages, at most `PAGE_CACHE_SECONDS` old);
`PAGE_CACHE_SIZE = 0` turns it off. Since the keys name the data version and the minute, the
age is not what keeps an entry true; it bounds how long one nobody asks for takes memory.
A value (`remember_value`: the analytics' figures, a complaint's visibility) outlives the
minute, so when the minute turns a page is rendered again from it instead of from scratch:
the figures of /analytics cost 120 ms at 100,000 complaints, and with an age of 60 s every
worker paid that once a minute, the slowest 1 % of requests waiting 300 ms behind it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache
from flask import Flask, Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from portal import clock
from portal.db import data_version

_EXTENSION = "redress_page_cache"
_VARYING_HEADERS = ("HX-Request", "HX-Boosted", "HX-Target", "HX-History-Restore-Request")
_KEPT_HEADERS = ("Content-Type", "Vary", "Cache-Control")


@dataclass(frozen=True)
class _Page:
    body: bytes
    headers: tuple[tuple[str, str], ...]


class _Store:
    def __init__(self, size: int, seconds: float) -> None:
        self._pages: TTLCache = TTLCache(maxsize=size, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Page | None:
        with self._lock:
            return self._pages.get(key)

    def put(self, key: tuple, page: _Page) -> None:
        with self._lock:
            self._pages[key] = page


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
    minute = clock.now().replace(second=0, microsecond=0)
    return (version, current_user.id, current_user.session_token, csrf, str(get_locale()),
            minute, request.full_path,
            tuple(request.headers.get(name, "") for name in _VARYING_HEADERS))


def remember(render: Callable[[], Response | str]) -> Response:
    """The page `render` makes, from the cache when it was made for this viewer and data."""
    store: _Store | None = current_app.extensions.get(_EXTENSION)
    # Without a CSRF secret yet, this render creates one: its forms belong to this session only.
    if (store is None or request.method != "GET" or "_flashes" in session
            or "csrf_token" not in session):
        return make_response(render())
    key = _key()
    page = store.get(key) if key is not None else None
    if page is not None:
        return Response(page.body, headers=list(page.headers))
    response = make_response(render())
    if key is not None and response.status_code == 200 and not response.is_streamed:
        headers = tuple((name, value) for name, value in response.headers.items()
                        if name in _KEPT_HEADERS)
        store.put(key, _Page(response.get_data(), headers))
    return response


_MISSING = object()


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
    it was computed. For answers that depend on nothing but the database and the viewer."""
    store: _Store | None = current_app.extensions.get(_EXTENSION)
    if store is None or request.method != "GET" or not current_user.is_authenticated:
        return compute()
    key = ("value", _data_version(), current_user.id, name, argument)
    value = store.get(key)
    if value is None:
        value = compute()
        store.put(key, _MISSING if value is None else value)
    return None if value is _MISSING else value
