"""Stored files sent as downloads: the exact type, the name in RFC 6266 form, never a page.

Werkzeug's send_file adds `; charset=utf-8` to any text/* type, even one that already names
its charset (`text/plain; charset=utf-8; charset=utf-8`), and derives the ASCII `filename=`
from the name by dropping what is not ASCII, which leaves `.txt` of a Chinese name. Both
headers are therefore written here.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file
from werkzeug.http import dump_options_header

# A download is never a page: nothing runs in it, nothing frames it, nothing embeds it.
DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; object-src 'none'; sandbox"


def content_disposition(name: str, ascii_name: str) -> str:
    """`attachment; filename=<ascii>`, plus `filename*=UTF-8''<name>` when the name is not
    ASCII (RFC 6266 and RFC 8187: clients that know `filename*` prefer it).

    Some browsers percent-decode a plain `filename=` (RFC 6266, appendix D), so `%` and `\\`
    never reach it: `..%2F..%2Fx.txt` would be read as a path. The exact name then goes in
    `filename*`, where `%` is encoded as `%25`."""
    plain = ascii_name.replace("%", "_").replace("\\", "_")
    options = {"filename": plain}
    if name != plain:
        options["filename*"] = "UTF-8''" + quote(name, safe="!#$&+^`|~")
    return dump_options_header("attachment", options)


def attachment(path: Path, *, content_type: str, name: str, ascii_name: str) -> Response:
    response = send_file(path, mimetype=content_type.split(";")[0], as_attachment=True,
                         download_name=ascii_name, conditional=False, etag=False, max_age=0)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = content_disposition(name, ascii_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
