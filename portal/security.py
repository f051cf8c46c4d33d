"""Access rules (deny by default), session lifetime, and browser hardening headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from flask import Flask, abort, current_app, g, request, session
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from portal import clock, request_bodies
from portal.db import db
from portal.models.user import Role

F = TypeVar("F", bound=Callable)

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def _declare(rule: object) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorator


def public(view: F) -> F:
    """Anyone, signed in or not."""
    return _declare(PUBLIC)(view)


def signed_in(view: F) -> F:
    """Any signed-in user, whatever their roles."""
    return _declare(AUTHENTICATED)(view)


def roles(*allowed: Role) -> Callable[[F], F]:
    """Signed-in users holding at least one of these roles."""
    return _declare(frozenset(allowed))


def access_rule(view: Callable | None) -> object | None:
    return getattr(view, "access_rule", None)


def enforce_access() -> None:
    """before_request: every endpoint must declare who may use it; undeclared means 403."""
    if request.endpoint is None:
        return  # 404/405 are raised by routing
    if request.endpoint == "static":
        return
    rule = access_rule(current_app.view_functions.get(request.endpoint))
    if rule == PUBLIC:
        return
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())
    if rule == AUTHENTICATED:
        return
    if isinstance(rule, frozenset) and current_user.has_role(*rule):
        return
    g.access_denied = True
    abort(403)


def require(condition: bool) -> None:
    """Object-level check in a route: the model predicate said no."""
    if not condition:
        g.access_denied = True
        abort(403)


def _parse(ts: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(ts) if ts else None
    except ValueError:
        return None


SEEN_AT_RESOLUTION = timedelta(seconds=30)


def session_expired() -> bool:
    """Idle and absolute timeouts, checked on every request of a signed-in user."""
    now = clock.now()
    started, seen = _parse(session.get("started_at")), _parse(session.get("seen_at"))
    config = current_app.config
    if started is None or seen is None:
        return True
    if now - seen > config["SESSION_IDLE_TIMEOUT"]:
        return True
    return now - started > config["SESSION_ABSOLUTE_TIMEOUT"]


def start_session() -> None:
    locale = session.get("locale")
    session.clear()  # a fresh session (and CSRF token) on every login
    if locale:
        session["locale"] = locale
    now = clock.now().isoformat()
    session["started_at"] = now
    session["seen_at"] = now
    session.permanent = True


def check_session_lifetime() -> None:
    if request.endpoint == "static" or not current_user.is_authenticated:
        return  # fetching a stylesheet is not activity, and must not touch the session
    if session_expired():
        logout_user()
        session.clear()
        g.session_expired = True
        abort(current_app.login_manager.unauthorized())
    now = clock.now()
    seen = _parse(session.get("seen_at"))
    if seen is None or now - seen >= SEEN_AT_RESOLUTION:
        # Rewriting the cookie on every request costs a signature and a Set-Cookie header;
        # the idle timeout (minutes) does not need a finer clock than this.
        session["seen_at"] = now.isoformat()


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def harden_response(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        # Every page may hold a client's personal data: never store it in a cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def remember_client_ip() -> None:
    g.client_ip = request.remote_addr or "unknown"


def limit_body_size() -> None:
    """Only multipart requests (file uploads) may use the large MAX_CONTENT_LENGTH; any other
    body is held in memory at once, so it gets the MAX_FORM_MEMORY_SIZE limit (413 beyond)."""
    if request.mimetype != "multipart/form-data":
        config = current_app.config
        request.max_content_length = min(
            config["MAX_CONTENT_LENGTH"] or config["MAX_FORM_MEMORY_SIZE"],
            config["MAX_FORM_MEMORY_SIZE"] or config["MAX_CONTENT_LENGTH"],
        )


def end_read_before_body() -> None:
    """Loading the user opened a read transaction; a client may send its body slowly, so end
    that transaction before the body is read (the user reloads on its next use)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        db.session.commit()


def reject_nul_bytes() -> None:
    """A NUL character is never legitimate input, and PostgreSQL refuses to store it (the
    request would end in a 500): refuse it up front in the URL, query string and form."""
    values = [*request.args.values(), *(request.view_args or {}).values()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values += request.form.values()
    if any(isinstance(v, str) and "\x00" in v for v in values):
        if request_bodies.view_shows_nul_bytes():
            return  # the view shows its form again, without the character
        abort(400)


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to what a database integer holds: a longer number is a 404,
    not an OverflowError (500) inside the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def check_csrf() -> None:
    """CSRF on every unsafe request, once we know who is asking and that they may.

    Running it after the access check means an expired session gets the login redirect
    (HX-Redirect for htmx) and a forbidden route its 403, instead of "form expired".
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        current_app.extensions["csrf"].protect(apply_exemptions=True)
    except CSRFError as error:
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "shows_csrf_failure", False):
            raise
        g.csrf_failure = error


def shows_csrf_failure(view: F) -> F:
    """The view answers a failed CSRF check itself (ask `csrf_failed()`), so that it can show
    the form again with what the visitor typed instead of the generic error page."""
    view.shows_csrf_failure = True  # type: ignore[attr-defined]
    return view


def csrf_failed() -> bool:
    return "csrf_failure" in g


def init_security(app: Flask) -> None:
    # Flask-WTF's own before_request would run first; ours runs after the access check.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # Behind a reverse proxy every request would come from the proxy's address, and
        # the per-address login throttle would then lock everyone out at once.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.url_map.converters["int"] = BoundedIntConverter  # before any blueprint adds a rule
    hooks = [limit_body_size, remember_client_ip, check_session_lifetime, enforce_access,
             end_read_before_body, request_bodies.read_oversize_body, reject_nul_bytes,
             check_csrf]
    app.before_request_funcs.setdefault(None, [])[0:0] = hooks
    app.after_request(harden_response)
