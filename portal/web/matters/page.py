"""A matter's page (/matters/<reference>, 404 for a matter the viewer may not see): its facts,
the engagement expectations with their gaps and history, the stage checklist, the progress
reports with the next report's day; and the forms that record an expectation and log a report
(whoever may see the matter: partners, its lawyer, team and supervising partner). Each section
is one partial; a refusal shows it again with what was typed (422, or 409 when stale)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _

from portal import clock
from portal.i18n import client_language
from portal.models.matter import Matter
from portal.models.prevention import (
    MATTER_STATUS_LABELS,
    REPORT_CHANNEL_LABELS,
    Expectation,
)
from portal.security import signed_in
from portal.services.prevention import checklist, core, expectations, reports
from portal.services.prevention.matters import may_manage, may_record
from portal.web import htmx, page_cache
from portal.web.decision.common import refused_state
from portal.web.matters import bp
from portal.web.matters.forms import FormState, actor, load
from portal.web.remedies.forms import posted_date, text

PAGE, WHOLE = "matters/show.html", "matters/_matter.html"
SECTIONS = {"expectations": "matters/_expectations.html", "checklist": "matters/_checklist.html",
            "reports": "matters/_reports.html"}


def page_context(matter: Matter, *, note: str | None = None, oob: bool = False,
                 expectation_forms: dict[str, FormState] | None = None,
                 item_forms: dict[int, FormState] | None = None,
                 report_form: FormState | None = None) -> dict[str, Any]:
    """Everything the page shows; each partial takes what it needs. `oob` asks a section's
    answer to bring the status tags at the top of the page up to date."""
    user = actor()
    today = clock.today()
    views = expectations.overview(matter)
    typed = expectation_forms or {}
    return {
        "matter": matter, "today": today, "lang": client_language(), "note": note,
        "oob": oob, "may_record": may_record(matter, user), "may_manage": may_manage(user),
        "overdue": reports.is_overdue(matter, today), "interval": core.interval_days(matter),
        "status_labels": MATTER_STATUS_LABELS, "channel_labels": REPORT_CHANNEL_LABELS,
        "expectations": views,
        "expectation_forms": {view.item.value: typed.get(view.item.value) or _fresh(view)
                              for view in views},
        "stages": checklist.grouped(matter), "item_forms": item_forms or {},
        "reports": reports.for_matter(matter),
        "report_form": report_form or FormState(values={"reported_on": today.isoformat(),
                                                        "channel": "email"}),
    }


def _fresh(view: expectations.ExpectationView) -> FormState:
    """An item's form as the page shows it first: the current entry, to change or keep."""
    current = view.current
    return FormState(values={
        "text": current.text or "" if current else "",
        "given_on": current.given_on.isoformat() if current and current.given_on else ""},
        version=view.latest_id)


def section_answer(matter: Matter, section: str, status: int = 200, *,
                   note: str | None = None, **forms) -> Response:
    """A section's partial for htmx (the page without JavaScript; after a success, back to
    the page at the section)."""
    if status < 400 and note and not htmx.wants_fragment():
        flash(note, "ok")
    return htmx.answer(SECTIONS[section], PAGE,
                       lambda full: page_context(matter, note=note, oob=not full, **forms),
                       status=status,
                       redirect_to=url_for("matters.show", reference=matter.reference,
                                           _anchor=f"matter-{section}"))


@bp.route("/matters/<reference>")
@signed_in
def show(reference: str):
    matter = load(reference)
    return page_cache.remember(lambda: htmx.page_or_partial(PAGE, WHOLE,
                                                            **page_context(matter)))


@bp.route("/matters/<reference>/expectations/<item>", methods=["POST"])
@signed_in
def record_expectation(reference: str, item: str):
    matter = load(reference)
    if item not in {e.value for e in Expectation}:
        abort(404)
    matter_id = matter.id
    state = FormState()
    text("text", state)
    given_on = posted_date("given_on", state) if item == Expectation.COMPLAINTS_PROCEDURE \
        else None
    raw = request.form.get("latest", "")
    latest = int(raw) if raw.isdigit() and len(raw) < 10 else -1
    state.version = latest
    forms = {item: state}
    if state.errors:
        return section_answer(matter, "expectations", 422, expectation_forms=forms)
    return htmx.write(
        lambda: expectations.record(actor(), matter_id, item, state.values["text"], given_on,
                                    latest_id=latest),
        done=lambda _entry: section_answer(matter, "expectations",
                                           note=_("The expectation is recorded.")),
        refused=lambda error, status: section_answer(
            matter, "expectations", status,
            expectation_forms={item: refused_state(state, error)}))


@bp.route("/matters/<reference>/reports", methods=["POST"])
@signed_in
def log_report(reference: str):
    matter = load(reference)
    matter_id = matter.id
    state = FormState()
    data = reports.ReportInput(reported_on=posted_date("reported_on", state),
                               channel=text("channel", state), summary=text("summary", state),
                               text_sent=text("text_sent", state))
    if state.errors:
        return section_answer(matter, "reports", 422, report_form=state)
    return htmx.write(
        lambda: reports.log(actor(), matter_id, data),
        done=lambda _report: section_answer(matter, "reports",
                                            note=_("The progress report is logged.")),
        refused=lambda error, status: section_answer(matter, "reports", status,
                                                     report_form=refused_state(state, error)))
