"""Request bodies that views answer themselves: too large, or holding a NUL character.

By default a body over the limit gets Werkzeug's bare 413 and a NUL character the bare 400 of
`security.reject_nul_bytes`: the visitor sees a generic page and loses what they typed. A view
marked `@shows_oversize_body` is called anyway, with the part of the form that fits in the
limit (text fields sent before a file, the start of a long text); it asks `body_too_large()`
and shows its form again. A view marked `@shows_nul_bytes` is called with the form as sent
and asks `had_nul_bytes()` (its filters drop the character before it is shown again).

Whatever of an oversize body is not kept is read and thrown away, up to MAX_CONTENT_LENGTH
more, before the view answers: a server that closes the connection on unread data makes
browsers show "connection reset" instead of the answer. It runs after the access check and
after security.end_read_before_body, so only users allowed on the route get this far and no
transaction is open while the body arrives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl

from flask import current_app, g, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wsgi import get_input_stream

F = TypeVar("F", bound=Callable)
CHUNK = 64 * 1024
_PARTIAL_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$")


def shows_oversize_body(view: F) -> F:
    """The view answers a body over the size limit itself (ask `body_too_large()`)."""
    view.shows_oversize_body = True  # type: ignore[attr-defined]
    return view


def shows_nul_bytes(view: F) -> F:
    """The view answers a NUL character in the form itself (ask `had_nul_bytes()`)."""
    view.shows_nul_bytes = True  # type: ignore[attr-defined]
    return view


def body_too_large() -> bool:
    return bool(g.get("body_too_large"))


def had_nul_bytes() -> bool:
    return bool(g.get("nul_bytes"))


def _view_says(flag: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, flag, False))


def view_shows_nul_bytes() -> bool:
    """For security.reject_nul_bytes: record the NUL for the view instead of a bare 400."""
    if request.method == "POST" and _view_says("shows_nul_bytes"):
        g.nul_bytes = True
        return True
    return False


def read_oversize_body() -> None:
    """before_request (see security.init_security): keep what fits of an oversize body for a
    view marked @shows_oversize_body, so that Werkzeug never raises 413 for it."""
    if request.method != "POST" or not _view_says("shows_oversize_body"):
        return
    limit, length = request.max_content_length, request.content_length
    if limit is None or length is None or length <= limit:
        if request.mimetype == "multipart/form-data":
            _cut_long_fields()
        return
    stream = get_input_stream(request.environ, max_content_length=None)
    if request.mimetype == "multipart/form-data":
        fields, used = _multipart_fields(stream, request.mimetype_params.get("boundary", ""),
                                         current_app.config["MAX_FORM_MEMORY_SIZE"] or limit)
    else:
        fields, used = _urlencoded_fields(stream, min(limit, length))
    _drain(stream, length - used)
    request.form = ImmutableMultiDict(fields)  # type: ignore[misc]  (Werkzeug caches it)
    request.files = ImmutableMultiDict()  # type: ignore[misc]
    g.body_too_large = True


def _cut_long_fields() -> None:
    """A multipart body within the limit whose text field is over MAX_FORM_MEMORY_SIZE (a 413
    from Werkzeug otherwise, losing every field): parse it whole, then cut that field."""
    field_limit = current_app.config["MAX_FORM_MEMORY_SIZE"]
    if not field_limit:
        return
    request.max_form_memory_size = request.max_content_length  # the body limit still holds
    fields = list(request.form.items(multi=True))
    if all(len(value.encode()) <= field_limit for _name, value in fields):
        return
    request.form = ImmutableMultiDict(  # type: ignore[misc]
        (name, value.encode()[:field_limit].decode("utf-8", "ignore")) for name, value in fields)
    g.body_too_large = True


def _urlencoded_fields(stream, budget: int) -> tuple[list[tuple[str, str]], int]:
    data = stream.read(budget)
    text = _PARTIAL_ESCAPE.sub("", data.decode("latin-1"))  # a cut "%E" would decode oddly
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
    if pairs:  # the last value was cut off at the limit, perhaps inside a character
        name, value = pairs[-1]
        pairs[-1] = (name, value.removesuffix("\ufffd"))
    return pairs, len(data)


def _multipart_fields(stream, boundary: str, budget: int) -> tuple[list[tuple[str, str]], int]:
    """The text fields sent before the first file (or the budget) runs out."""
    decoder = MultipartDecoder(boundary.encode("latin-1"))
    fields: list[tuple[str, str]] = []
    name, parts, used = None, [], 0
    try:
        while used < budget:
            chunk = stream.read(min(CHUNK, budget - used))
            used += len(chunk)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                if isinstance(event, (File, Epilogue)):
                    return _with(fields, name, parts), used
                if isinstance(event, Field):
                    name, parts = event.name, []
                elif isinstance(event, Data) and name is not None:
                    parts.append(event.data)
                    if not event.more_data:
                        fields.append((name, b"".join(parts).decode("utf-8", "replace")))
                        name, parts = None, []
                event = decoder.next_event()
            if not chunk:
                break
    except ValueError:  # a malformed body: keep what was understood
        pass
    return _with(fields, name, parts), used


def _with(fields: list, name: str | None, parts: list[bytes]) -> list[tuple[str, str]]:
    """The fields, plus the one cut off at the budget (its beginning)."""
    if name is not None and parts:
        value = b"".join(parts).decode("utf-8", "replace").removesuffix("\ufffd")
        fields.append((name, value))
    return fields


def _drain(stream, remaining: int) -> None:
    budget = min(remaining, int(current_app.config["MAX_CONTENT_LENGTH"] or 0))
    while budget > 0:
        chunk = stream.read(min(CHUNK, budget))
        if not chunk:
            break
        budget -= len(chunk)
