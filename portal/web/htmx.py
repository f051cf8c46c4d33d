"""The only module that knows about htmx's HX-* request and response headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Response, make_response, render_template, request

from portal.db import begin_write, db


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


def _only_fragment_differs(location: str) -> bool:
    """Whether `location` is the page htmx was asked from plus a #fragment: setting
    location.href to it scrolls without loading the page again."""
    target = urlsplit(location)
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    return bool(target.fragment) and (target.path, target.query) == (current.path,
                                                                     current.query)


def redirect(location: str, status: int = 303) -> Response:
    """Send the browser elsewhere: HX-Redirect for htmx, an HTTP redirect otherwise."""
    if request.htmx:
        response = make_response("", 200 if status < 400 else status)
        response.headers["HX-Redirect"] = location
        if _only_fragment_differs(location):  # the browser would only scroll: reload it
            response.headers["HX-Refresh"] = "true"
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response


def redirect_to_login(location: str) -> Response:
    """Signed out: htmx gets 401 with HX-Redirect, so a fragment never becomes a login form."""
    return redirect(location, status=401 if request.htmx else 303)


def wants_fragment() -> bool:
    return bool(request.htmx)


# --- writes: commit or roll back, then answer ------------------------------------------------
# A route reads and validates its input, then hands the one service call to `write`, which
# starts the write transaction (docs/architecture.md, "Transactions"), commits, and on a
# domain error rolls back and answers with the error's status.

T = TypeVar("T")
R = TypeVar("R")
STOP_POLLING = 286  # htmx stops an `every`/`load delay` poll on this status


def _refusals() -> tuple[tuple[type[Exception], int], ...]:
    """The domain errors a write may end in, most specific first, and their statuses."""
    from portal.services.accounts import AccountError
    from portal.services.approvals import ApprovalError
    from portal.services.calendar import CalendarError
    from portal.services.evidence import EvidenceTooLarge
    from portal.services.intake.errors import ConflictError, IntakeError

    return ((ConflictError, 409), (EvidenceTooLarge, 413), (IntakeError, 422),
            (AccountError, 422), (ApprovalError, 422), (CalendarError, 422))


def refusal_status(error: Exception) -> int | None:
    """The status a refused write answers with, or None when `error` is not a refusal."""
    for kind, status in _refusals():
        if isinstance(error, kind):
            return status
    return None


def write(change: Callable[[], T], *, done: Callable[[T], R],
          refused: Callable[[Exception, int], R]) -> R:
    """begin_write(), the service call, commit, then `done(result)`; when the service says
    no, roll back and answer `refused(error, status)` (409, 413 or 422). Any other error
    (a failed commit included) rolls back and propagates."""
    begin_write()
    try:
        result = change()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        status = refusal_status(error)
        if status is None:
            raise
        return refused(error, status)
    return done(result)


def answer(partial_template: str, page_template: str, context: Callable[[bool], dict], *,
           status: int = 200, trigger: str | None = None,
           redirect_to: str | None = None) -> Response:
    """An action's answer. htmx gets the partial (`context(False)`); a browser without
    JavaScript is redirected after a success (when `redirect_to` is given) or gets the whole
    page (`context(True)`) with the status."""
    if wants_fragment():
        return partial(partial_template, status=status, trigger=trigger, **context(False))
    if status < 400 and redirect_to:
        return redirect(redirect_to)
    return make_response(render_template(page_template, **context(True)), status)


def poll(response: Response, pending: bool) -> Response:
    """A polled partial: once nothing is pending, status 286 tells htmx to stop polling."""
    if not pending and response.status_code == 200:
        response.status_code = STOP_POLLING
    return response
