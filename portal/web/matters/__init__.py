"""Matters and their prevention record: the list (/matters, `listing`), a new matter and its
edits (partners, `editing`), the matter's page with its expectations and progress reports
(`page`), its stage checklist and the documents kept with it (`checklist`), and the matter
types with their checklist templates (/admin/matter-types, partners, `types`). Services:
services/prevention/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("matters", __name__)

from portal.web.matters import checklist, editing, listing, page, types  # noqa: E402,F401
