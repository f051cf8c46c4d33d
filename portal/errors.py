"""Error pages: translated, the right status, never a stack trace."""

from __future__ import annotations

import errno

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.db import begin_write, db
from portal.services.notices import NoticeGone
from portal.web import htmx


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please try again.")),
        401: (_("Please sign in"), _("You need to sign in to see this page.")),
        403: (_("Access denied"), _("You do not have permission to do this.")),
        404: (_("Page not found"), _("There is nothing at this address.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        413: (
            _("File too large"),
            _("What you sent is larger than the portal accepts. Please send a smaller file."),
        ),
        410: (_("No longer kept"), _("This document was deleted at the end of its retention "
                                     "period.")),
        422: (_("Invalid input"), _("Some of what you entered needs correcting.")),
        429: (_("Too many requests"), _("Please wait a little before trying again.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again.")),
        503: (
            _("Service unavailable"),
            _("The portal cannot reach its database at the moment. Please try again in a "
              "minute; if you were saving something, check afterwards that it was saved."),
        ),
        507: (
            _("Storage full"),
            _("The portal could not store the file: its storage is full. Nothing was saved. "
              "Please try again later, and tell the administrator if this continues."),
        ),
    }


RETRY_AFTER_SECONDS = 30
STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached (down, restarting, connection lost), as opposed to a
    statement it refused: that one is a bug, answered 500."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def render_error(status: int, detail: str | None = None):
    title, message = _messages().get(status, _messages()[500])
    template = "errors/_error.html" if htmx.wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=detail or message), status


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        _audit_denial("csrf.rejected")
        return render_error(
            400,
            _("This form has expired or did not come from this site. "
              "Reload the page and try again; nothing was changed."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.response is not None:  # e.g. the login redirect built by Flask-Login
            return error.response
        db.session.rollback()
        if error.code == 403:
            _audit_denial("access.denied")
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        db.session.rollback()
        return render_error(500)

    @app.errorhandler(NoticeGone)
    def notice_gone(_error: NoticeGone):
        return render_error(410)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if not database_unavailable(error):
            return unexpected(error)
        app.logger.error("The database is unavailable: %s", str(error).splitlines()[0])
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone already
            db.session.close()
        # The page is rendered without the database: as for a visitor (no menu, no name),
        # in the language of the session or the browser.
        from portal.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
        body, status = render_error(503)
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.errorhandler(OSError)
    def os_error(error: OSError):
        if error.errno not in STORAGE_FULL:
            return unexpected(error)
        app.logger.error("Storage full: %s", error)
        db.session.rollback()  # what the request wrote goes, with any file it stored
        return render_error(507)


def _audit_denial(action: str) -> None:
    from flask_login import current_user

    from portal.services import audit

    try:
        begin_write()
        audit.record(
            action,
            actor=current_user if current_user.is_authenticated else None,
            details={"method": request.method, "path": request.path[:200]},
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 - an audit failure must not hide the denial
        db.session.rollback()
