"""Absolute addresses of the portal's pages, for emails and PDFs.

PUBLIC_BASE_URL wins when it is set: behind a reverse proxy the Host header is the proxy's
business, and the worker has no request at all. Otherwise the request's own host is used.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def email_link(endpoint: str, *, anchor: str | None = None, **values: Any) -> str | None:
    """The page's absolute address, or None when neither PUBLIC_BASE_URL nor a request tells
    the portal's address (a worker's email then names the page instead of linking it)."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    fragment = f"#{anchor}" if anchor else ""
    if base:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
        return f"{base}{path}{fragment}"
    if has_request_context():
        return url_for(endpoint, _external=True, **values) + fragment
    return None


def external_url(endpoint: str, **values: Any) -> str:
    """The same, in a request (where an address is always known)."""
    link = email_link(endpoint, **values)
    if link is None:
        raise RuntimeError("external_url needs a request or PUBLIC_BASE_URL")
    return link
