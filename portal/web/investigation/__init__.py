"""The investigator's workspace (one blueprint): `pages` (the workspace, a statement or a
note in full, the partials that refresh), `evidence` (adding, opening, previews),
`actions` (statements, reply requests, notes), `reply` (the respondent's public page behind
a signed link) and `area` (the case file's summary); `context` and `forms` are shared.

Every route under /complaints/<key>/investigation answers 404 to anyone who may not open
the workspace (context.load), whatever their role: the route declares @signed_in and the
object rule decides, so a receptionist, an unassigned investigator or a conflicted partner
learns nothing, not even that the workspace exists.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("investigation", __name__)

from portal.web.investigation import actions, area, evidence, pages, reply  # noqa: E402, F401
