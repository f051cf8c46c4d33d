"""The investigation's area on the case file: counts, the latest items and the way into
the workspace, shown only to those who may open it."""

from __future__ import annotations

from typing import Any

from flask import url_for

from portal.models.complaint import Complaint
from portal.models.user import User
from portal.services.investigation import workspace
from portal.web import case_file


@case_file.area(name="investigation", order=20, template="investigation/_area.html")
def investigation_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    if not complaint.can_open_workspace(user):
        return None
    return {**workspace.summary(complaint),
            "url": url_for("investigation.workspace", key=complaint.label)}
