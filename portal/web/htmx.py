"""The only module that knows about htmx's HX-* request and response headers."""

from __future__ import annotations

from flask import Response, make_response, render_template, request


def is_partial_request() -> bool:
    """An htmx request that wants a fragment (a boosted request wants the whole page)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_partial(page: str, partial: str, status: int = 200, **context) -> Response:
    """A page URL: the partial for a non-boosted htmx request, else the whole page."""
    template = partial if is_partial_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def partial(template: str, status: int = 200, trigger: str | None = None, **context) -> Response:
    """An action URL's answer: always its partial (422 when the input was rejected)."""
    response = make_response(render_template(template, **context), status)
    if trigger:
        response.headers["HX-Trigger"] = trigger
    return response


def redirect(location: str, status: int = 303) -> Response:
    """Send the browser elsewhere: HX-Redirect for htmx, an HTTP redirect otherwise."""
    if request.htmx:
        response = make_response("", 200 if status < 400 else status)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response


def redirect_to_login(location: str) -> Response:
    """Signed out: htmx gets 401 with HX-Redirect, so a fragment never becomes a login form."""
    return redirect(location, status=401 if request.htmx else 303)


def wants_fragment() -> bool:
    return bool(request.htmx)
