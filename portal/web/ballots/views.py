"""What the ballot pages share: loading a ballot through the visibility rule, the labels, and
the template context of the page and of each partial (built once, so that the page and every
swap agree). Sealed: before the close the context holds the viewer's own votes and the count,
never anyone else's vote (`voting.results` is None until then)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models.complaint import STATE_LABELS, Complaint
from portal.models.resolution import (
    DISCIPLINARY_LEVEL_LABELS,
    QUORUM_LABELS,
    RECUSAL_LABELS,
    REMEDY_KIND_LABELS,
    VOTE_LABELS,
    Ballot,
    BallotOutcome,
    BallotProposal,
    VoteChoice,
)
from portal.models.user import Role, User
from portal.services.resolution import ballots, voting
from portal.services.resolution.closing import ClosedReason
from portal.web.ballots.forms import RecuseForm, ResolveForm
from portal.web.intake.context import actor

OUTCOME_LABELS = {
    BallotOutcome.ADOPTED: _l("A proposal was adopted"),
    BallotOutcome.NO_QUORUM: _l("No quorum: a partner chooses the proposal"),
    BallotOutcome.TIE: _l("A tie: a partner chooses between the tied proposals"),
    BallotOutcome.NONE_ADOPTED: _l("No proposal was adopted: a partner opens a new ballot"),
}
CLOSED_REASON_LABELS = {
    ClosedReason.DEADLINE: _l("at its closing time"),
    ClosedReason.ALL_VOTED: _l("once every eligible member had voted"),
}
LABELS = {"remedy": REMEDY_KIND_LABELS, "level": DISCIPLINARY_LEVEL_LABELS,
          "quorum": QUORUM_LABELS, "recusal": RECUSAL_LABELS, "vote": VOTE_LABELS,
          "outcome": OUTCOME_LABELS, "closed_reason": CLOSED_REASON_LABELS,
          "state": STATE_LABELS}
VOTE_CHOICES = [(c.value, VOTE_LABELS[c]) for c in VoteChoice]
CHANGED = "ballot-changed"  # htmx event: the live count asks again at once


def load(ballot_id: int) -> tuple[Ballot, Complaint]:
    """The ballot and its complaint, if the viewer may see the complaint; 404 otherwise (a
    conflicted member sees no trace of it)."""
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.id == ballot_id)
        .options(selectinload(Ballot.proposals).selectinload(BallotProposal.remedies),
                 selectinload(Ballot.members)))
    if ballot is None:
        abort(404)
    complaint = db.session.scalar(select(Complaint).where(
        Complaint.id == ballot.complaint_id, Complaint.visible_to(actor())))
    if complaint is None:
        abort(404)
    return ballot, complaint


def page_url(ballot: Ballot, anchor: str | None = None) -> str:
    return url_for("ballots.show", ballot_id=ballot.id, _anchor=anchor)


@dataclass
class FormState:
    """A form as posted (kept on a refusal) with its messages; empty means a fresh form."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    note: str | None = None  # a success
    error: str | None = None  # a refusal about the whole form
    stale: bool = False  # 409: someone else changed it first

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


@dataclass
class Shown:
    """What this request's answer shows instead of fresh forms."""

    vote: FormState | None = None
    vote_note: str | None = None
    recuse: RecuseForm | None = None
    recuse_state: FormState = field(default_factory=FormState)
    resolve: ResolveForm | None = None
    resolve_state: FormState = field(default_factory=FormState)
    resolve_version: int | None = None


def _vote_state(ballot: Ballot, mine: dict, note: str | None) -> FormState:
    values = {}
    for proposal in ballot.proposals:
        vote = mine.get(proposal.id)
        if vote is not None:
            values[f"choice-{proposal.id}"] = vote.choice
            values[f"comment-{proposal.id}"] = vote.comment or ""
    return FormState(values=values, note=note)


def context(ballot: Ballot, complaint: Complaint, shown: Shown | None = None) -> dict[str, Any]:
    """Everything the page and its partials show to the viewer."""
    shown = shown or Shown()
    viewer: User = actor()
    member = ballot.member(viewer)
    mine = voting.mine(ballot, viewer) if member is not None else {}
    partner = viewer.has_role(Role.PARTNER)
    may_resolve = ballots.may_resolve(ballot, complaint, viewer)
    return {
        "ballot": ballot,
        "complaint": complaint,
        "number": ballots.number_of(ballot),
        "viewer": viewer,
        "member": member,
        "eligible": member is not None and member.recused_at is None,
        "refusal": voting.refusal(ballot, viewer) if member is not None else None,
        "mine": mine,
        "voted": bool(mine),
        "count": voting.count(ballot),
        "results": voting.results(ballot),  # None while the ballot is open: sealed
        "names": {m.user_id: m.user.name for m in ballot.members},
        "numbers": {p.id: p.number for p in ballot.proposals},
        "numbers_adopted": {p.id: p.adopted for p in ballot.proposals},
        "vote_state": shown.vote or _vote_state(ballot, mine, shown.vote_note),
        "vote_choices": VOTE_CHOICES,
        "recuse_form": shown.recuse or RecuseForm(formdata=None),
        "recuse_state": shown.recuse_state,
        "may_resolve": may_resolve,
        "resolve_choices": ballots.choices(ballot) if may_resolve else [],
        "resolve_form": shown.resolve or ResolveForm(formdata=None),
        "resolve_state": shown.resolve_state,
        "resolve_version": shown.resolve_version if shown.resolve_version is not None
        else ballot.version,
        "partner": partner,
        "labels": LABELS,
        "money": ballots.format_money,
    }


def count_context(ballot: Ballot) -> dict[str, Any]:
    return {"ballot": ballot, "count": voting.count(ballot), "polled": True}
