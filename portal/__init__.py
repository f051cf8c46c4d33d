"""Redress: a law firm's complaint-handling portal."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from portal import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("REDRESS_INSTANCE", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _configure(app, overrides or {})

    from portal import extensions, security
    from portal.db import db
    from portal.i18n import init_i18n
    from portal.web import register_blueprints

    db.init_app(app)
    migrations = str(PROJECT_ROOT / "portal" / "migrations")
    extensions.migrate.init_app(app, db, render_as_batch=True, directory=migrations)
    extensions.csrf.init_app(app)
    extensions.mail.init_app(app)
    extensions.htmx.init_app(app)
    init_i18n(app)

    from portal.auth_session import init_login

    init_login(app)
    security.init_security(app)
    register_blueprints(app)
    from portal.web import page_cache

    page_cache.init_app(app)
    from portal.templating import init_templating

    init_templating(app)

    from portal.errors import init_error_handlers

    init_error_handlers(app)

    from portal.services import notices

    notices.register_attachments()  # the outbox attaches notices without importing them
    from portal.cli import register_cli
    from portal.services.analytics import fact_table  # noqa: F401 - its hook keeps the table

    register_cli(app)
    if not config_module.second_partner_approval(app.config):
        app.logger.warning(
            "ACCOUNT_CHANGES_NEED_SECOND_PARTNER is off: one partner alone can create accounts, "
            "grant roles and reset passwords. Turn it on once the firm has a second partner."
        )
    return app


def _configure(app: Flask, overrides: dict) -> None:
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    config_module.from_environment(app.config)
    app.config.update(overrides)
    config_module.from_dev_mailbox(app.config, app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = config_module.default_database_uri(
            app.instance_path
        )
    app.config["MAX_CONTENT_LENGTH"] = max(
        app.config["MAX_CONTENT_LENGTH"], app.config["EVIDENCE_MAX_BYTES"] + 1024 * 1024
    )
    _configure_secret_key(app)
    if config_module.is_production(app.config):
        app.config["SESSION_COOKIE_SECURE"] = True
    _configure_audit_key(app)
    _configure_clock(app)


def _configure_clock(app: Flask) -> None:
    """A demo's clock offset (`flask demo clock`) lives in a file; production has none."""
    from portal import clock

    path = clock.offset_file(app.config, app.instance_path)
    if config_module.is_production(app.config):
        clock.use_offset_file(None)
        if path.exists():
            app.logger.warning("Ignoring %s in production: the clock is the system's.", path)
    else:
        clock.use_offset_file(path)


SECRET_KEY_MIN_LENGTH = 32


def _configure_secret_key(app: Flask) -> None:
    """SECRET_KEY signs sessions, CSRF tokens and emailed links, so a published key lets anyone
    forge a session. Production refuses to start without a key of its own; elsewhere (`make
    run`) a random key is generated into <instance>/secret_key on first start and kept."""
    key = app.config.get("SECRET_KEY")
    if key not in config_module.UNSET_SECRET_KEYS:
        if config_module.is_production(app.config) and len(str(key)) < SECRET_KEY_MIN_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY is too short for production: use at least {SECRET_KEY_MIN_LENGTH} "
                "random characters (python3 -c 'import secrets; print(secrets.token_hex(32))')."
            )
        return
    if config_module.is_production(app.config):
        raise RuntimeError(
            "Refusing to start in production without a SECRET_KEY of its own: "
            "set SECRET_KEY in the environment or instance/config.py."
        )
    app.config["SECRET_KEY"] = config_module.instance_secret(app.instance_path, "secret_key")


AUDIT_KEY_MIN_LENGTH = 32


def _configure_audit_key(app: Flask) -> None:
    """The audit chain's HMAC key comes from the configuration, never from the database."""
    key = app.config.get("AUDIT_HMAC_KEY")
    production = config_module.is_production(app.config)
    if not key:
        if production:
            raise RuntimeError(
                "Refusing to start in production without AUDIT_HMAC_KEY: set it (at least "
                f"{AUDIT_KEY_MIN_LENGTH} random characters) in the environment or "
                "instance/config.py, and keep a copy outside the server."
            )
        app.config["AUDIT_HMAC_KEY"] = config_module.instance_secret(
            app.instance_path, "audit.key"
        )
    elif production and len(key) < AUDIT_KEY_MIN_LENGTH:
        raise RuntimeError(
            f"AUDIT_HMAC_KEY is too short: use at least {AUDIT_KEY_MIN_LENGTH} random characters."
        )
