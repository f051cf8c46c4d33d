"""What happened to the complaints `flask demo seed --complaints N` generates
(portal/demo_complaints.py), so that the case files, the lists and the analytics have every
phase to show: triage (severity, categories, a lead investigator with no conflict), the
acknowledgement email, the allegations and the lead's findings, the committee's ballot and
decision with its remedies, the outcome notice, the client's answer, the remedies, follow-up
and closing with root causes and the call-back's satisfaction score; a few were withdrawn.

Each complaint's `Course` is drawn here: the moment of each step, who took it, and the state
it has reached now. The older a complaint, the further it went: most complaints of past years
are closed, the last weeks' are still being investigated or decided, and a few of every age
got stuck on the way. portal/demo_outcome_rows.py writes the rows, portal/demo_ballots.py the
ballots, portal/demo_history.py the notices and the audit trail. Deterministic: the same
random seed and database give the same courses.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal.db import db
from portal.demo_ballots import BallotPlan, Ballots, Terms
from portal.models.complaint import Complaint, Remedy, State
from portal.models.followup import ActionKind, ImprovementAction, RootCause
from portal.models.investigation import Category, Finding, Severity
from portal.models.resolution import RemedyKind
from portal.models.user import User
from portal.services import calendar
from portal.services.triage.withdrawal import WithdrawalMethod

SEVERITY_WEIGHTS = {Severity.MINOR: 40, Severity.GENERAL: 35, Severity.SERIOUS: 18,
                    Severity.CRITICAL: 7}
CATEGORY_WEIGHTS = {Category.COMMUNICATION: 30, Category.FEES: 25, Category.DELAY: 18,
                    Category.ATTITUDE: 10, Category.COMPETENCE: 10, Category.CONFLICT: 3,
                    Category.CONFIDENTIALITY: 2, Category.OTHER: 2}
FINDING_WEIGHTS = {Finding.ESTABLISHED: 40, Finding.PARTLY: 35, Finding.NOT_ESTABLISHED: 25}
SATISFACTION = (2, 3, 4, 4, 4, 5, 5, 5)
ACTIONS = ("更新委托合同中的收费说明", "进度报告提醒制度", "新入职律师沟通培训",
           "利益冲突检索工具升级", "结案归档清单", "客户投诉处理流程宣讲")
# What the committee decides for what the client asked (services/resolution: RemedyKind).
DECIDED_FOR_SOUGHT = {Remedy.EXPLANATION: RemedyKind.EXPLANATION,
                      Remedy.APOLOGY: RemedyKind.WRITTEN_APOLOGY,
                      Remedy.PARTIAL_REFUND: RemedyKind.PARTIAL_REFUND,
                      Remedy.FULL_REFUND: RemedyKind.FULL_REFUND,
                      Remedy.FREE_FOLLOW_UP: RemedyKind.FREE_FOLLOW_UP}
FOLLOW_UP_SCOPE = "免费提供后续一审阶段的法律咨询，不超过十小时。"
WITHDRAWN_SHARE = 0.03  # of the complaints being investigated, withdrawn by the client
DISPUTED_SHARE = 0.08  # of the decisions, disputed by the client
STUCK_SHARE = 0.1  # of the decisions, never carried through to the close
OPEN_BALLOT_AFTER = timedelta(days=14)  # awaiting the decision this long: a ballot is open
ANSWER_WORKING_DAYS = 15  # OUTCOME_ANSWER_WORKING_DAYS
CALLBACK_DAYS = 14  # FOLLOW_UP_CALLBACK_DAYS
# After the decision, in order: the state reached once each step is taken.
DECIDED_STEPS = ("decided", "issued", "answered", "started", "completed", "closed")
STATE_AFTER = dict(zip(DECIDED_STEPS, (State.DECIDED, State.OUTCOME_SENT, State.ACCEPTED,
                                       State.REMEDIES_IN_PROGRESS, State.FOLLOW_UP,
                                       State.CLOSED), strict=True))


@dataclass
class Course:
    """One complaint's course: when each step was taken (None: not by now), by whom, and the
    ids of the rows written for it (filled in by the writers, read by the audit trail)."""

    complaint: Complaint
    partner: User  # triages and assigns: a partner who may see the complaint
    state: State = State.REGISTERED
    acknowledged: datetime | None = None  # the acknowledgement email went out
    triaged: datetime | None = None
    severity: Severity | None = None
    categories: list[Category] = field(default_factory=list)
    lead: User | None = None
    assigned: datetime | None = None
    withdrawn: datetime | None = None
    withdrawal_method: str | None = None
    found: datetime | None = None  # findings submitted
    findings: list[Finding | None] = field(default_factory=list)  # per category/allegation
    ballot: BallotPlan | None = None
    decider: User | None = None
    remedies: list[Terms] = field(default_factory=list)
    decided: datetime | None = None
    issued: datetime | None = None  # the outcome notice
    answered: datetime | None = None  # the client's answer
    disputed: bool = False
    discussed: datetime | None = None  # the negotiation round's discussion
    started: datetime | None = None  # remedies started
    completed: datetime | None = None  # remedies completed: follow-up
    closed: datetime | None = None
    root_causes: list[int] = field(default_factory=list)
    satisfaction: int | None = None
    answer_due: date | None = None  # set once the outcome notice is issued
    views: list[tuple[datetime, User, str]] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def last_moment(self) -> datetime:
        moments = (self.complaint.registered_at, self.acknowledged, self.triaged, self.assigned,
                   self.withdrawn, self.found, self.decided, self.issued, self.answered,
                   self.discussed, self.started, self.completed, self.closed)
        return max(m for m in moments if m is not None)


class Outcomes:
    """Draws each complaint's course from one seeded random number generator."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        users = {u.username: u for u in db.session.scalars(select(User)) if u.username}
        self.partners = [users["partner"], users["partner2"]]
        self.investigators = [users["investigator"], users["investigator2"]]
        self.reception = users["reception"]
        self.causes = list(db.session.scalars(
            select(RootCause.id).where(RootCause.active, RootCause.needs_text.is_(False))))
        self.ballots = Ballots(random.Random(rng.random()))
        self.answer_days: dict[date, date] = {}

    def _pick(self, weights: dict) -> Any:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def draw(self, complaints: Sequence[Complaint]) -> list[Course]:
        """The courses of the flushed complaints (no database write)."""
        return [self._course(complaint) for complaint in complaints]

    @staticmethod
    def conflicted(complaint: Complaint) -> set[int]:
        """Who may not judge it: its respondents and the people of its matter."""
        people = {r.id for r in complaint.respondents}
        if complaint.matter is not None:
            people |= {complaint.matter.responsible_lawyer_id, complaint.matter.partner_id}
        return people

    def _course(self, complaint: Complaint) -> Course:
        rng, now = self.rng, self.now
        conflicted = self.conflicted(complaint)
        free = [p for p in self.partners if p.id not in conflicted] or self.partners
        course = Course(complaint, free[0])
        received = complaint.received_at
        acknowledged = received + timedelta(hours=rng.randint(4, 24 * 9))
        if complaint.complainant.email and acknowledged < now and rng.random() < 0.92:
            course.acknowledged = acknowledged
        triaged = received + timedelta(hours=rng.randint(2, 60))
        if triaged >= now:
            return course  # still registered: triage has not happened yet
        course.triaged, course.state = triaged, State.TRIAGED
        course.severity = self._pick(SEVERITY_WEIGHTS)
        course.categories = sorted({self._pick(CATEGORY_WEIGHTS)
                                    for _ in range(rng.choice((1, 1, 2)))})
        course.lead = next((u for u in self.investigators if u.id not in conflicted), None)
        # mostly the same day; now and then the team is found days later
        assigned = triaged + timedelta(minutes=rng.randint(10, 600) if rng.random() < 0.9
                                       else rng.randint(24 * 60, 5 * 24 * 60))
        if assigned >= now or course.lead is None:
            return course
        course.assigned, course.state = assigned, State.INVESTIGATING
        self._investigate(course, conflicted, free)
        if course.state not in (State.CLOSED, State.WITHDRAWN):
            self._views(course)
        return course

    def _investigate(self, course: Course, conflicted: set[int], free: list[User]) -> None:
        rng, now = self.rng, self.now
        received = course.complaint.received_at
        age = (now - received).days
        decided = received + timedelta(days=rng.randint(15, 60))
        found = decided - timedelta(days=rng.randint(2, 10))
        goes_to_decision = decided < now and rng.random() < (0.97 if age > 120 else 0.6)
        has_findings = goes_to_decision or (found < now and rng.random() < 0.5)
        withdrawn = course.assigned + timedelta(hours=rng.randint(24, 24 * 20))
        if rng.random() < WITHDRAWN_SHARE and withdrawn < min(now, found):
            course.withdrawn, course.state = withdrawn, State.WITHDRAWN
            course.withdrawal_method = rng.choice(list(WithdrawalMethod)).value
            return
        if not has_findings:
            return
        course.found, course.state = found, State.AWAITING_DECISION
        course.findings = [self._pick(FINDING_WEIGHTS) for _ in course.categories]
        course.decider = rng.choice(free)
        course.remedies = self._remedies(course.complaint)
        lead_id = course.lead.id if course.lead else None
        if goes_to_decision:
            opened = found + timedelta(hours=rng.randint(1, 12))
            closed = decided - timedelta(hours=rng.randint(1, 12))
            course.ballot = self.ballots.closed(course.decider, opened, closed, conflicted,
                                                lead_id, course.remedies)
            self._decide(course, decided)
        elif now - received > OPEN_BALLOT_AFTER:
            opened = max(found + timedelta(hours=rng.randint(1, 12)),
                         now - timedelta(hours=rng.randint(24, 240)))
            if opened < now - timedelta(hours=1):
                course.ballot = self.ballots.open(course.decider, opened, now, conflicted,
                                                  lead_id, course.remedies)
        if course.ballot is not None:
            course.ballot.complaint_id = course.complaint.id

    def _remedies(self, complaint: Complaint) -> list[Terms]:
        kinds = [DECIDED_FOR_SOUGHT[Remedy(r)] for r in complaint.remedies_sought
                 if Remedy(r) in DECIDED_FOR_SOUGHT] or [RemedyKind.EXPLANATION]
        kinds = kinds[:2]
        if RemedyKind.PARTIAL_REFUND in kinds and RemedyKind.FULL_REFUND in kinds:
            kinds.remove(RemedyKind.FULL_REFUND)  # one refund or the other, never both
        terms = []
        for kind in kinds:
            amount = (Decimal(self.rng.randrange(1_000, 50_000, 500))
                      if kind in (RemedyKind.PARTIAL_REFUND, RemedyKind.FULL_REFUND) else None)
            scope = FOLLOW_UP_SCOPE if kind == RemedyKind.FREE_FOLLOW_UP else None
            terms.append(Terms(kind.value, amount, scope))
        return terms

    def _decide(self, course: Course, decided: datetime) -> None:
        """The decision and what followed it, as far as it went by now."""
        rng, now = self.rng, self.now
        moments = {"decided": decided}
        moments["issued"] = decided + timedelta(minutes=rng.randint(120, 3 * 24 * 60))
        moments["answered"] = moments["issued"] + timedelta(hours=rng.randint(24, 14 * 24))
        moments["started"] = moments["answered"] + timedelta(hours=rng.randint(2, 72))
        moments["completed"] = moments["started"] + timedelta(days=rng.randint(5, 30))
        moments["closed"] = moments["completed"] + timedelta(days=rng.randint(10, 20))
        steps = list(DECIDED_STEPS)
        if rng.random() < STUCK_SHARE:  # a backlog: the firm never carried it through
            steps = steps[:rng.choice((2, 4, 5))]
        reached = [step for step in steps if moments[step] < now]
        for step in reached:
            setattr(course, step, moments[step])
        course.state = STATE_AFTER[reached[-1]]
        self._dispute(course)
        if course.closed is not None:
            course.root_causes = rng.sample(self.causes, rng.choice((1, 1, 2)))
            course.satisfaction = rng.choice(SATISFACTION)
        if course.issued is not None:
            day = calendar.local_day(course.issued)
            if day not in self.answer_days:
                self.answer_days[day] = calendar.add_working_days(day, ANSWER_WORKING_DAYS)
            course.answer_due = self.answer_days[day]

    def _dispute(self, course: Course) -> None:
        """A client who disputed the decision lately: the negotiation round is under way.
        (Older disputes are not shown: those clients accepted a revised decision.)"""
        if course.answered is None or self.rng.random() >= DISPUTED_SHARE:
            return
        discussed = course.answered + timedelta(hours=self.rng.randint(24, 5 * 24))
        revised = discussed + timedelta(days=self.rng.randint(3, 10))
        if revised < self.now:
            return
        course.disputed, course.started, course.completed, course.closed = True, None, None, None
        course.state = State.DISPUTED
        if discussed < self.now:
            course.discussed, course.state = discussed, State.NEGOTIATION

    def _views(self, course: Course) -> None:
        """Staff opening the case file or the workspace while the complaint is open."""
        start = course.assigned or course.complaint.registered_at
        span = int((self.now - start).total_seconds())
        for _ in range(self.rng.randint(1, 3)):
            at = start + timedelta(seconds=self.rng.randrange(max(span, 1)))
            user, view = ((course.lead, "workspace") if course.lead and self.rng.random() < 0.6
                          else (course.partner, "record"))
            course.views.append((at, user, view))


def seed_actions(rng: random.Random, today: date) -> None:
    """A few improvement actions, some of them overdue, owned by the partners."""
    partners = list(db.session.scalars(
        select(User).where(User.username.in_(("partner", "partner2")))))
    statuses = ("planned", "in_progress", "done")
    db.session.add_all(ImprovementAction(
        title=title,
        kind=ActionKind.TRAINING.value if "培训" in title or "宣讲" in title
        else ActionKind.PROCEDURE.value,
        owner_id=rng.choice(partners).id, created_by_id=partners[0].id,
        due=today + timedelta(days=rng.randint(-60, 90)), status=rng.choice(statuses))
        for title in ACTIONS)
