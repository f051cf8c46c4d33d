"""The follow-up on the case file (area "followup", order 90): the satisfaction call-back (its
owner, due date, the survey, each call and the result), the form to record a call, a partner's
closing with root causes; and the client's survey page /s/<token> (services/followup/)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("followup", __name__)

from portal.web.followup import actions, area, survey  # noqa: E402,F401  (routes, the area)
