"""Blueprints, one module per area."""

from __future__ import annotations

from flask import Flask

from portal.web import admin, auth, calendar, home, intake, mailbox, public, readback


def register_blueprints(app: Flask) -> None:
    for area in (auth, home, admin, intake, readback, public, calendar, mailbox):
        app.register_blueprint(area.bp)
