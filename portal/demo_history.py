"""The paper trail of the complaints `flask demo seed --complaints N` generates: their notices
and their audit events (portal/demo_outcomes.py draws each complaint's course).

**Notices.** Each acknowledgement that went out, each investigation report and each outcome
notice is a `Notice` row, as services/notices.py `store` makes them. Their PDF is one real
notice, rendered once per run (`render_sample`): its file is written once into the notice
directory, and every other notice's file is a hard link to it, under the notice's own name.
So each notice has a file of its own for the downloads, the backup and the retention run (which
deletes a complaint's files), at the cost of one PDF on disk.

**Audit events.** Each step of a course is the event the service taking it records (the same
action and details: ids and codes only), at the moment it was taken and by the user who took
it, chained by `audit.record_many` in the order they happened within the batch. The trail is
kept to about ten events a complaint: the steps the case file's timeline shows (recording,
confirming, registering, the acknowledgement, triage, assignment, findings, the ballot, the
decision, the outcome notice, the client's answer while it is the latest step, negotiation,
withdrawal, closing) and a few views of the open complaints. The votes of closed ballots, the
remedies' tasks and the call-back's calls are rows without events of their own.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal.db import db, discard_on_rollback
from portal.demo_ballots import BallotPlan
from portal.demo_outcome_rows import ASSESSMENT, WITHDRAWAL_REASON, bulk_insert
from portal.models.complaint import Complaint, ConfirmationMethod, State
from portal.models.followup import RootCause
from portal.models.notice import Notice
from portal.models.user import User
from portal.services import audit, notices
from portal.services.calendar import local_day
from portal.services.findings import REPORT_KIND
from portal.services.resolution.closing import TICK_LABEL
from portal.services.resolution.outcome import NOTICE_KIND as OUTCOME_KIND

if TYPE_CHECKING:
    from portal.demo_outcomes import Course

ACKNOWLEDGEMENT = "acknowledgement"
Add = Callable[..., None]  # History.events's `add`: one event of the course
ANSWERED_STATES = (State.ACCEPTED, State.DISPUTED, State.NEGOTIATION)


def render_sample(complaint: Complaint) -> bytes:
    """The PDF every seeded notice shares: `complaint`'s acknowledgement (outside any write:
    the complaint may be a transient one)."""
    return notices.render_fresh(complaint, ACKNOWLEDGEMENT)


class Notices:
    """Writes the notice rows of a batch; the first file holds the PDF, the others link to it."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.sha256 = hashlib.sha256(pdf).hexdigest()
        self.size = len(pdf)
        self.shared: Path | None = None

    def write(self, courses: Sequence[Course]) -> None:
        rows, owners = [], []
        for course in courses:
            course.ids["notices"] = {}
            for kind, at, by, delivery in _issued(course):
                owners.append((course, kind))
                rows.append(self._row(course, kind, at, by, delivery))
        for (course, kind), notice_id in zip(owners, bulk_insert(Notice, rows, ids=True),
                                             strict=True):
            course.ids["notices"][kind] = notice_id
        for row in rows:
            self._store(notices.notice_dir() / row["stored_name"])

    def _row(self, course: Course, kind: str, at: datetime, by: User | None,
             delivery: str) -> dict[str, Any]:
        label = re.sub(r"[^A-Za-z0-9-]", "", course.complaint.label)
        posted = delivery == "post"
        return {"complaint_id": course.complaint.id, "kind": kind, "version": 1,
                "stored_name": f"{label}-{kind}-v1-{secrets.token_hex(6)}.pdf",
                "sha256": self.sha256, "size": self.size, "created_at": at,
                "created_by_id": by.id if by else None, "delivery": delivery,
                "posted_on": local_day(at) + timedelta(days=1) if posted else None,
                "posted_by_id": course.partner.id if posted else None}

    def _store(self, path: Path) -> None:
        """The notice's file: the PDF the first time, a hard link to that file after."""
        discard_on_rollback(path)
        if self.shared is not None:
            try:
                os.link(self.shared, path)
                return
            except OSError as error:
                if error.errno != errno.EMLINK:
                    raise
        # the first notice, or the links a file may have are used up (65,000 on ext4): this
        # file holds the PDF again, and the next ones link to it
        notices._write_once(path, self.pdf)  # read-only, as every stored notice
        self.shared = path


def _issued(course: Course) -> list[tuple[str, datetime, User | None, str]]:
    """(kind, when, by whom, delivery) of each notice the course issued."""
    issued = []
    if course.acknowledged is not None:  # stored by the outbox worker as it sent the email
        issued.append((ACKNOWLEDGEMENT, course.acknowledged, None, "email"))
    if course.found is not None:
        issued.append((REPORT_KIND, course.found, course.lead, "email"))
    if course.issued is not None:
        issued.append((OUTCOME_KIND, course.issued, course.decider, delivery_of(course)))
    return issued


def delivery_of(course: Course) -> str:
    return "email" if course.complaint.complainant.email else "post"


def _actor(user: User | None) -> dict[str, Any]:
    return {"actor_id": user.id if user else None,
            "actor_label": (user.username or user.name) if user else None}


class History:
    """Builds the audit events of a batch's courses and appends them to the chain."""

    def __init__(self, reception: User, working_days: int, pdf: Notices) -> None:
        self.reception = reception
        self.working_days = working_days
        self.pdf = pdf
        self.users = {u.id: u for u in db.session.scalars(select(User))}
        self.causes = dict(db.session.execute(select(RootCause.id, RootCause.code)).all())

    def record(self, courses: Sequence[Course]) -> int:
        """Append the courses' events, oldest first; returns how many."""
        events = [event for course in courses for event in self.events(course)]
        events.sort(key=lambda event: event["at"])
        audit.record_many(events)
        return len(events)

    def events(self, course: Course) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []

        def add(action: str, at: datetime, user: User | None, details: dict[str, Any],
                label: str | None = None) -> None:
            found.append({"action": action, "at": at, "object_type": "complaint",
                          "object_id": course.complaint.id, **_actor(user),
                          **({"actor_label": label} if label else {}), "details": details})

        self._intake(course, add)
        self._investigation(course, add)
        if course.ballot is not None:
            self._ballot(course, course.ballot, add)
        self._resolution(course, add)
        return found

    def _intake(self, course: Course, add: Add) -> None:
        complaint = course.complaint
        add("complaint.created", complaint.created_at, self.reception,
            {"channel": complaint.channel})
        method = complaint.confirmation_method
        by_link = method == ConfirmationMethod.SIGNED_LINK
        add("complaint.confirmed", complaint.confirmed_at, None if by_link else self.reception,
            {"method": method}, label="client" if by_link else None)
        deadline = complaint.deadlines[0]
        add("complaint.registered", complaint.registered_at, self.reception, {
            "reference": complaint.reference, "first_response_due": deadline.due.isoformat(),
            "provisional": deadline.provisional, "working_days": self.working_days})
        if course.acknowledged is not None:
            add("mail.queued", course.acknowledged, self.reception,
                {"message_id": course.ids["ack_message"], "kind": ACKNOWLEDGEMENT})
            self._notice_issued(course, ACKNOWLEDGEMENT, course.acknowledged, None, "email",
                                add)

    def _notice_issued(self, course: Course, kind: str, at: datetime, user: User | None,
                       delivery: str, add: Add) -> None:
        add("notice.issued", at, user, {
            "notice_id": course.ids["notices"][kind], "kind": kind, "version": 1,
            "sha256": self.pdf.sha256, "size": self.pdf.size, "delivery": delivery})

    def _investigation(self, course: Course, add: Add) -> None:
        if course.triaged is None:
            return
        allegations = course.ids["allegations"]
        add("complaint.triaged", course.triaged, course.partner, {
            "severity": course.severity.value, "categories": [c.value for c in course.categories],
            "allegations": len(allegations), "allegation_ids": allegations,
            "handler_id": course.lead.id if course.lead else None,
            "assessment_length": len(ASSESSMENT[course.severity])})
        if course.assigned is None:
            return
        add("assignment.changed", course.assigned, course.partner, {
            "lead_id": course.lead.id, "investigator_ids": [],
            "started_ids": [course.ids["lead_assignment"]], "ended_ids": [],
            "from_state": State.TRIAGED.value, "to_state": State.INVESTIGATING.value})
        for at, user, view in course.views:
            add("complaint.viewed", at, user, {"view": view})
        if course.withdrawn is not None:
            add("complaint.withdrawn", course.withdrawn, self.reception, {
                "from_state": State.INVESTIGATING.value, "method": course.withdrawal_method,
                "reason_length": len(WITHDRAWAL_REASON)})
        if course.found is not None:
            add("findings.submitted", course.found, course.lead, {
                "from_state": State.INVESTIGATING.value,
                "to_state": State.AWAITING_DECISION.value, "allegations": len(allegations),
                "notice_id": course.ids["notices"][REPORT_KIND], "sha256": self.pdf.sha256})

    def _ballot(self, course: Course, plan: BallotPlan, add: Add) -> None:
        state = State.AWAITING_DECISION.value
        add("ballot.opened", plan.opened, plan.opener, {
            "ballot_id": plan.id, "proposals": len(plan.proposals),
            "remedies": [[r.kind for r in p] for p in plan.proposals],
            "closes_at": plan.closes_at.isoformat(), "quorum_rule": "majority",
            "members": len(plan.members), "eligible": len(plan.eligible),
            "recusals": sorted(reason for _user, reason in plan.members if reason),
            "round": None, "from_state": state, "to_state": state})
        if plan.tally is None:  # open: the votes cast so far (hidden from the timeline)
            for user_id, at in plan.voters():
                add("ballot.voted", at, self.users[user_id], {
                    "ballot_id": plan.id, "proposals": len(plan.proposals), "changed": False})
            return
        tally = plan.tally
        closer = self.users[plan.closer] if plan.closer else None
        add("ballot.closed", plan.closed, closer, {
            "ballot_id": plan.id, "reason": plan.reason, "outcome": tally.outcome,
            "adopted": tally.winner_id, "eligible": tally.eligible,
            "participated": tally.participated, "quorum": tally.quorum},
            label=None if closer else TICK_LABEL)

    def _resolution(self, course: Course, add: Add) -> None:
        if course.decided is None:
            return
        decision = course.ids["decision"]
        refunds = sum(r.amount for r in course.remedies if r.amount is not None)
        add("decision.recorded", course.decided, course.decider, {
            "decision_id": decision, "number": 1,
            "ballot_id": course.ballot.id if course.ballot else None,
            "proposal_id": course.ballot.proposal_ids[0] if course.ballot else None,
            "remedies": [r.kind for r in course.remedies], "refund_total": f"{refunds:.2f}",
            "from_state": State.AWAITING_DECISION.value, "to_state": State.DECIDED.value})
        if course.issued is not None:
            add("outcome.issued", course.issued, course.decider, {
                "decision_id": decision, "number": 1,
                "notice_id": course.ids["notices"][OUTCOME_KIND], "version": 1,
                "delivery": delivery_of(course), "answer_due": course.answer_due.isoformat(),
                "from_state": State.DECIDED.value, "to_state": State.OUTCOME_SENT.value})
        if course.state in ANSWERED_STATES:
            self._answer(course, add)
        if course.closed is not None:
            add("complaint.closed_after_follow_up", course.closed, course.decider, {
                "closure_kind": "resolved", "callback_id": course.ids["callback"],
                "root_causes": [{"id": cause, "code": self.causes[cause]}
                                for cause in course.root_causes],
                "from_state": State.FOLLOW_UP.value, "to_state": State.CLOSED.value})

    def _answer(self, course: Course, add: Add) -> None:
        kind = State.DISPUTED if course.disputed else State.ACCEPTED
        by_link = delivery_of(course) == "email"
        round_id = course.ids.get("round")
        add(f"client_answer.{kind.value}", course.answered, None if by_link else course.decider,
            {"answer_id": course.ids["answer"], "decision_id": course.ids["decision"],
             "decision_number": 1, "method": "link" if by_link else "phone",
             "round_id": round_id, "round_number": 1 if round_id else None,
             "from_state": State.OUTCOME_SENT.value, "to_state": kind.value},
            label="client" if by_link else None)
        if course.discussed is not None:
            add("negotiation.discussed", course.discussed, course.decider, {
                "round_id": round_id, "number": 1, "from_state": State.DISPUTED.value,
                "to_state": State.NEGOTIATION.value})
