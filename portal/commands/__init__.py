"""Command groups of `flask`, one module per area."""

from __future__ import annotations

import click
from flask import current_app

from portal.config import is_production


def refuse_in_production() -> None:
    if is_production(current_app.config):
        raise click.ClickException("Refusing to run against a production configuration.")
