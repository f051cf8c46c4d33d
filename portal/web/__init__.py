"""Blueprints, one module per area."""

from __future__ import annotations

import importlib

from flask import Flask

AREAS = ("auth", "home", "admin", "intake", "public", "calendar", "mailbox", "readback")


def register_blueprints(app: Flask) -> None:
    for area in AREAS:
        try:
            module = importlib.import_module(f"portal.web.{area}")
        except ModuleNotFoundError as error:
            if error.name != f"portal.web.{area}":
                raise
            continue  # area not built yet
        app.register_blueprint(module.bp)
