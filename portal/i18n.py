"""Flask-Babel set-up: the user's stored choice, then the session, then Accept-Language."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from portal.extensions import babel
from portal.formatting import format_day, format_moment, format_month, format_size
from portal.locales import DEFAULT_LOCALE, LANGUAGE_NAMES, html_lang, language_of, locale_of


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    if session.get("locale") in supported:
        return session["locale"]
    return request.accept_languages.best_match(supported, default=DEFAULT_LOCALE) or DEFAULT_LOCALE


def current_locale() -> str:
    """The configured code of the active locale (Babel spells zh_CN as zh_Hans_CN)."""
    return locale_of(language_of(get_locale()))


def language_code() -> str:
    """The HTML lang attribute for the current locale."""
    return html_lang(current_locale())


def client_language() -> str:
    """Clients are recorded as zh or en; staff pages use zh_CN or en."""
    return language_of(current_locale())


def join_list(items) -> str:
    """"A, B and C" in English, "A、B和C" in Chinese."""
    from babel.lists import format_list

    words = [str(item) for item in items if item]
    return format_list(words, locale=get_locale() or DEFAULT_LOCALE) if words else ""


def init_i18n(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/../translations"),
    )
    app.jinja_env.globals.update(
        language_code=language_code,
        language_names=LANGUAGE_NAMES,
        current_locale=current_locale,
    )
    app.jinja_env.filters["join_list"] = join_list
    # One spelling of dates per locale on every page (portal/formatting.py).
    app.jinja_env.filters["date"] = format_day
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["datetime"] = format_moment
    app.jinja_env.filters["filesize"] = format_size
