"""The ballot's page and its actions. Each loads the ballot's complaint through the visibility
rule (404 when hidden: a conflicted member sees no trace of it), then runs one service in
`htmx.write`: 422 with the reason when a rule says no (after the close, a recused member, a
non-member), 409 when the page was loaded before someone else changed the ballot. htmx gets
the partial it swapped; a browser without JavaScript the page again (or a redirect)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, render_template, request
from flask_babel import gettext as _

from portal.models.complaint import Complaint
from portal.models.resolution import Ballot
from portal.models.user import Role
from portal.security import roles
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.resolution import ballots, voting
from portal.web import htmx, page_cache
from portal.web.ballots import bp
from portal.web.ballots.forms import RecuseForm, ResolveForm
from portal.web.ballots.views import (
    CHANGED,
    FormState,
    Shown,
    context,
    count_context,
    load,
    page_url,
)
from portal.web.intake.context import actor, posted_version

PAGE = "ballots/page.html"


@bp.route("/ballots/<int:ballot_id>")
@roles(Role.COMMITTEE, Role.PARTNER)
def show(ballot_id: int):
    def render() -> str:
        # Loaded inside: a page kept for this viewer and this data version passed the
        # visibility rule when it was made, and nothing it depends on has changed since.
        ballot, complaint = load(ballot_id)
        return render_template(PAGE, **context(ballot, complaint))

    return page_cache.remember(render)


@bp.route("/ballots/<int:ballot_id>/count")
@roles(Role.COMMITTEE, Role.PARTNER)
def live_count(ballot_id: int):
    """"N of M have voted", polled while the ballot is open; 286 once it closed."""
    ballot, _complaint = load(ballot_id)
    response = htmx.partial("ballots/_count.html", **count_context(ballot))
    response.headers["Cache-Control"] = "no-store"
    return htmx.poll(response, pending=ballot.is_open)


def _answer(ballot: Ballot, complaint: Complaint, partial: str, shown: Shown, *,
            status: int = 200, trigger: str | None = None, anchor: str | None = None
            ) -> Response:
    return htmx.answer(partial, PAGE, lambda _full: context(ballot, complaint, shown),
                       status=status, trigger=trigger,
                       redirect_to=page_url(ballot, anchor) if status < 400 else None)


def _moved(ballot: Ballot, message: str) -> Callable[[object], Response]:
    """A success that changes the whole page: it is loaded again, with the message."""
    def done(_result) -> Response:
        flash(message, "ok")
        return htmx.redirect(page_url(ballot))
    return done


def _state(error: Exception, values: dict[str, str] | None = None) -> FormState:
    state = FormState(values=values or {}, stale=isinstance(error, ConflictError))
    errors = getattr(error, "errors", None) or {}
    state.errors = dict(errors)
    if not errors or state.stale:
        state.error = str(error)
    return state


def _attach(form, error: Exception) -> None:
    for name, messages in (getattr(error, "errors", None) or {}).items():
        target = form._fields.get(name)
        if target is not None:
            target.errors = [*target.errors, *messages]


# -- voting -----------------------------------------------------------------------------------

@bp.route("/ballots/<int:ballot_id>/votes", methods=["POST"])
@roles(Role.COMMITTEE)
def cast(ballot_id: int):
    ballot, complaint = load(ballot_id)
    posted = {p.id: voting.VoteInput(request.form.get(f"choice-{p.id}", ""),
                                     request.form.get(f"comment-{p.id}", ""))
              for p in ballot.proposals}
    typed = {name: value for name, value in request.form.items()
             if name.startswith(("choice-", "comment-"))}

    def done(result: voting.Cast) -> Response:
        if result.closed:
            return _moved(ballot, _("Your vote is recorded. It was the last one: the ballot "
                                    "is closed and its result is shown."))(result)
        note = (_("Your vote is changed. You can change it until the ballot closes.")
                if result.changed else
                _("Your vote is recorded. You can change it until the ballot closes."))
        if not htmx.wants_fragment():
            flash(note, "ok")
        return _answer(ballot, complaint, "ballots/_vote.html", Shown(vote_note=note),
                       trigger=CHANGED, anchor="ballot-vote")

    def refused(error: IntakeError, status: int) -> Response:
        return _answer(ballot, complaint, "ballots/_vote.html",
                       Shown(vote=_state(error, typed)), status=status)

    return htmx.write(lambda: voting.cast(actor(), ballot, posted), done=done, refused=refused)


@bp.route("/ballots/<int:ballot_id>/recuse", methods=["POST"])
@roles(Role.COMMITTEE)
def recuse(ballot_id: int):
    ballot, complaint = load(ballot_id)
    form = RecuseForm()
    form.validate_on_submit()  # the shape only: the service checks the reason

    def refused(error: IntakeError, status: int) -> Response:
        state = _state(error)
        if state.errors and not state.stale:
            _attach(form, error)
        return _answer(ballot, complaint, "ballots/_recusal.html",
                       Shown(recuse=form, recuse_state=state), status=status)

    return htmx.write(
        lambda: ballots.recuse(actor(), ballot, form.note.data),
        done=_moved(ballot, _("You are recused from this ballot; any vote you cast is "
                              "withdrawn.")),
        refused=refused)


@bp.route("/ballots/<int:ballot_id>/resolve", methods=["POST"])
@roles(Role.PARTNER)
def resolve(ballot_id: int):
    ballot, complaint = load(ballot_id)
    form = ResolveForm()
    form.validate_on_submit()  # the shape only: the service checks the choice
    version = posted_version()

    def refused(error: IntakeError, status: int) -> Response:
        state = _state(error)
        if state.errors and not state.stale:
            _attach(form, error)
        return _answer(ballot, complaint, "ballots/_resolve.html",
                       Shown(resolve=form, resolve_state=state, resolve_version=version),
                       status=status)

    return htmx.write(
        lambda: ballots.resolve(actor(), ballot, complaint, form.proposal.data,
                                form.reason.data, expected_version=version),
        done=_moved(ballot, _("Your choice is recorded: the decision can now be recorded on "
                              "the case file.")),
        refused=refused)
