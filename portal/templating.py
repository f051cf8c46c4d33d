"""Template helpers shared by every area."""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape


def nl2br(text: str | None) -> Markup:
    """Plain text with its line breaks kept, escaped before the <br> are added."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def init_templating(app: Flask) -> None:
    from portal.models.user import ROLE_LABELS
    from portal.web.display import excerpt, submission_rows

    app.jinja_env.filters["nl2br"] = nl2br
    app.jinja_env.filters["excerpt"] = excerpt
    app.jinja_env.globals["submission_rows"] = submission_rows
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
