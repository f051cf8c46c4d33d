"""The prevention record of the demo's matters (`flask demo seed`, with or without
`--complaints`): each matter gets its type, its checklist, the expectations agreed at
engagement and the progress reports logged since, kept as a real firm keeps them: mostly.

- The type follows the department (family, ip, corporate) or the title (劳动: labour); any
  other matter is litigation.
- Most matters have all six expectations, recorded in the days after opening; about a quarter
  miss one or two (the fee estimate and the risks most often), and on some matters a
  complaint made the lawyer record one afterwards (recorded late: after it was received).
- Reports come about every interval, some lawyers more regular than others, with a final one
  on closing. Some matters fell silent for two to five months before their complaint (now and
  then a report of that time was logged only after the complaint), and some open matters
  stopped reporting, so their report is overdue today.
- Old matters are closed or archived. The checklist is ticked, by the responsible lawyer, as
  far as the matter's age goes (the odd step forgotten); a step tied to an expectation is
  ticked when that expectation was recorded.

Written with bulk inserts once the matters are flushed. The stored `report_due_on` and
`expectation_gaps` are what services/prevention/core.py computes from these rows; an overdue
matter counts as already reminded for its due day, so the worker does not mail the lawyers a
reminder for every made-up matter at once. The analytics rows of the matters' complaints are
rewritten in the same transaction (their facts read the prevention history). Deterministic:
the same random number generator, matters and clock give the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.clock import LOCAL_TZ
from portal.db import db
from portal.demo_prevention_texts import (
    CLOSING,
    CLOSING_EN,
    COMPLAINTS_EN,
    COMPLAINTS_TEXT,
    FEES_EN,
    FEES_TEXT,
    FIRST,
    FIRST_EN,
    FIRST_EN_CORPORATE,
    HAPPENED,
    HAPPENED_EN,
    HAPPENED_EN_CORPORATE,
    NEXT,
    NEXT_CORPORATE,
    NEXT_EN,
    NEXT_EN_CORPORATE,
    OUTCOMES_DEFAULT,
    OUTCOMES_EN,
    OUTCOMES_EN_CORPORATE,
    OUTCOMES_TEXT,
    PROBLEMS,
    PROBLEMS_CORPORATE,
    PROBLEMS_EN,
    PROBLEMS_EN_CORPORATE,
    REVISED,
    REVISED_EN,
    RISKS_CORPORATE,
    RISKS_EN,
    RISKS_EN_CORPORATE,
    RISKS_TEXT,
    SCOPE,
    SCOPE_EN,
    SCOPE_EN_CORPORATE,
    TIMETABLE_DEFAULT,
    TIMETABLE_EN,
    TIMETABLE_EN_CORPORATE,
    TIMETABLE_TEXT,
)
from portal.models.complaint import Complaint
from portal.models.matter import Matter
from portal.models.prevention import (
    ChecklistTemplateItem,
    Expectation,
    ExpectationEntry,
    MatterChecklistItem,
    MatterStatus,
    MatterType,
    ProgressReport,
    ReportChannel,
    Stage,
)
from portal.models.user import Department, User
from portal.services.analytics import fact_table

FEES, RISKS = Expectation.FEES.value, Expectation.RISKS.value
# Which expectations a sloppy engagement leaves out, by weight.
MISSING_WEIGHTS = {FEES: 30, RISKS: 30, Expectation.OUTCOMES.value: 20,
                   Expectation.COMPLAINTS_PROCEDURE.value: 15,
                   Expectation.TIMETABLE.value: 15, Expectation.SCOPE.value: 5}
# Each report comes after this share of the interval: a regular, an average, a poor reporter.
PACES = ((0.6, 1.0), (0.7, 1.25), (0.9, 1.8))
PACE_WEIGHTS = (65, 25, 10)
CHANNEL_WEIGHTS = {ReportChannel.EMAIL: 35, ReportChannel.PHONE: 25, ReportChannel.MESSAGE: 20,
                   ReportChannel.MEETING: 15, ReportChannel.LETTER: 5}
CHANNELS = tuple(channel.value for channel, weight in CHANNEL_WEIGHTS.items()
                 for _ in range(weight))  # one draw picks by weight
WRITTEN = (ReportChannel.EMAIL.value, ReportChannel.LETTER.value)  # may keep the text sent
# Checklist steps ticked when an expectation is recorded (their labels in services/prevention/
# seed.py).
STEP_EXPECTATIONS = {"费用预估": FEES,
                     "投诉处理程序": Expectation.COMPLAINTS_PROCEDURE.value}
# A department's names (zh or en) → the matter type of its matters.
DEPARTMENT_TYPES = (("家事", "family"), ("family", "family"), ("知识产权", "ip"),
                    ("intellectual property", "ip"), ("公司", "corporate"),
                    ("corporate", "corporate"), ("劳动", "labour"), ("employment", "labour"))
LITIGATION = "litigation"

@dataclass(frozen=True)
class Shape:
    """How a matter's prevention record goes: drawn at random, or given (the demo firm)."""

    pace: tuple[float, float] = PACES[0]  # each report after this share of the interval
    missing: frozenset[str] = frozenset()  # expectations never recorded
    late: frozenset[str] = frozenset()  # recorded only after the first complaint
    revised: str | None = None  # an expectation recorded again later
    interval: int | None = None  # the matter's own report interval (else its type's)
    silence: int = 0  # days without a report before the first complaint
    backfilled: bool = False  # ... one report of that time logged after the complaint
    stopped: int | None = None  # open matters: the last report was this many days ago
    closed_on: date | None = None


@dataclass
class Rows:
    """The rows written for a batch of matters, by table."""

    checklist: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    matters: list[dict[str, Any]] = field(default_factory=list)


def matter_type_for(title: str, department: str) -> str:
    """The type of a matter with this title in this department (its names, zh and en)."""
    if "劳动" in title:
        return "labour"
    department = department.lower()
    return next((code for word, code in DEPARTMENT_TYPES if word in department), LITIGATION)


class Prevention:
    """Draws each matter's record from one random number generator; `add` writes it."""

    def __init__(self, rng: random.Random, now: datetime, *, reminded: bool = True) -> None:
        self.rng = rng
        self.now = now
        # Bulk data counts its overdue matters as reminded already (the first worker pass
        # would otherwise mail thousands of lawyers); the demo firm's is left to the worker,
        # so that `make run` shows the reminder in the mail sink.
        self.reminded = reminded
        self.today = now.astimezone(LOCAL_TZ).date()
        self.intervals: dict[str, int] = dict(db.session.execute(
            select(MatterType.code, MatterType.report_interval_days)).all())
        self.templates: dict[str, list[tuple[Any, ...]]] = {code: [] for code in self.intervals}
        for row in db.session.execute(
                select(ChecklistTemplateItem.matter_type_code, ChecklistTemplateItem.id,
                       ChecklistTemplateItem.stage, ChecklistTemplateItem.label_zh,
                       ChecklistTemplateItem.label_en, ChecklistTemplateItem.needs_document)
                .where(ChecklistTemplateItem.active)
                .order_by(ChecklistTemplateItem.position, ChecklistTemplateItem.id)):
            self.templates[row[0]].append(tuple(row[1:]))
        self.departments = {d.id: f"{d.name_zh} {d.name_en}"
                            for d in db.session.scalars(select(Department))}
        self.names = dict(db.session.execute(select(User.id, User.name)).all())
        self.done: set[int] = set()

    # -- writing ------------------------------------------------------------------------

    def add(self, matters: Iterable[Matter], complaints: Sequence[Complaint] = (),
            shapes: Mapping[str, Shape] | None = None) -> None:
        """Give the flushed matters that have no checklist yet their record, set their stored
        due day and gaps, and rewrite the analytics rows of their complaints. `complaints`
        (flushed) are those received so far on them; `shapes` gives each matter's shape by
        reference (a plain, complete, regular record when absent) instead of drawing it."""
        fresh = list({m.id: m for m in matters if m.id not in self.done}.values())
        self.done.update(m.id for m in fresh)
        ids = [m.id for m in fresh]
        started = {matter_id for chunk in _chunks(ids) for matter_id in db.session.scalars(
            select(MatterChecklistItem.matter_id).where(MatterChecklistItem.matter_id.in_(chunk)))}
        fresh = [m for m in fresh if m.id not in started]
        if not fresh:
            return
        rows = self.rows(fresh, complaints, shapes)
        _write(rows, {m.id: m for m in fresh})
        touched = [cid for chunk in _chunks([m.id for m in fresh]) for cid in db.session.scalars(
            select(Complaint.id).where(Complaint.matter_id.in_(chunk)))]
        if touched:
            fact_table.refresh(db.session.connection(), touched)

    def rows(self, matters: Sequence[Matter], complaints: Sequence[Complaint] = (),
             shapes: Mapping[str, Shape] | None = None) -> Rows:
        """The rows of these matters' records (nothing written)."""
        first: dict[int, date] = {}
        for complaint in complaints:
            if complaint.matter_id is not None and complaint.received_at is not None:
                day = complaint.received_at.astimezone(LOCAL_TZ).date()
                first[complaint.matter_id] = min(first.get(complaint.matter_id, day), day)
        rows = Rows()
        for matter in matters:
            code = matter.matter_type_code or matter_type_for(
                matter.title, self.departments.get(matter.department_id, ""))
            if code not in self.intervals:
                code = LITIGATION if LITIGATION in self.intervals else next(iter(self.intervals))
            shape = (shapes.get(matter.reference, Shape()) if shapes is not None
                     else self.draw(code, matter.opened_on, first.get(matter.id)))
            self._matter(matter, code, shape, first.get(matter.id), rows)
        return rows

    # -- drawing ------------------------------------------------------------------------

    def draw(self, code: str, opened: date | None, first: date | None) -> Shape:
        """A random shape for a matter of this type, opened then, first complained of then."""
        rng, today = self.rng, self.today
        pace = rng.choices(PACES, PACE_WEIGHTS)[0]
        missing: set[str] = set()
        if rng.random() < 0.25:
            missing = set(rng.choices(list(MISSING_WEIGHTS), list(MISSING_WEIGHTS.values()),
                                      k=rng.choice((1, 1, 2))))
        late: set[str] = set()
        if first is not None and rng.random() < 0.12:
            late = {rng.choice(sorted(missing)) if missing else rng.choice((FEES, RISKS))}
            missing -= late
        interval = rng.choice((14, 21, 45, 60)) if rng.random() < 0.08 else None
        every = interval or self.intervals[code]
        closed = None
        if opened is not None and first is not None:
            span = (first - opened).days
            if span > 120 and rng.random() < 0.15:
                closed = opened + timedelta(days=rng.randint(60, span - 30))
            else:
                closed = first + timedelta(days=rng.randint(20, 540))
        elif opened is not None:
            closed = opened + timedelta(days=rng.randint(90, 900))
        if closed is not None and closed > today:
            closed = None
        silence = 0
        if first is not None and (closed is None or closed > first) and (
                rng.random() < (0.5 if pace == PACES[-1] else 0.25)):
            silence = rng.randint(60, 150)
        return Shape(
            pace=pace, missing=frozenset(missing), late=frozenset(late),
            revised=rng.choice((FEES, Expectation.TIMETABLE.value))
            if rng.random() < 0.1 else None,
            interval=interval, silence=silence,
            backfilled=bool(silence) and rng.random() < 0.3,
            stopped=every + rng.randint(1, 2 * every)
            if closed is None and rng.random() < 0.12 else None,
            closed_on=closed)

    def _moment(self, day: date, first_hour: int = 9, last_hour: int = 19) -> datetime:
        """A time of that day in office hours, never after now."""
        minute = _upto(self.rng, 0, (last_hour - first_hour + 1) * 60 - 1)
        at = datetime.combine(day, time(first_hour + minute // 60, minute % 60), LOCAL_TZ)
        return at if day < self.today else min(at, self.now)

    # -- one matter ---------------------------------------------------------------------

    def _matter(self, matter: Matter, code: str, shape: Shape, first: date | None,
                rows: Rows) -> None:
        rng, today = self.rng, self.today
        interval = shape.interval or self.intervals[code]
        opened = matter.opened_on
        status, closed, archived = MatterStatus.OPEN.value, shape.closed_on, None
        if closed is not None:
            status = MatterStatus.CLOSED.value
            archived = closed + timedelta(days=rng.randint(15, 90))
            if archived <= today:
                status = MatterStatus.ARCHIVED.value
            else:
                archived = None
        recorded: dict[str, datetime] = {}
        last_report = None
        if opened is not None:
            engaged = min(opened + timedelta(days=rng.choice((0, 1, 2, 3, 5, 7, 10))), today)
            recorded = self._expectations(matter, code, shape, engaged, first, rows)
            last_report = self._reports(matter, code, shape, interval, first, rows)
            self._checklist(matter, code, shape, engaged, recorded, archived, rows)
        else:
            self._checklist(matter, code, shape, None, recorded, archived, rows)
        start = last_report or opened
        due = (start + timedelta(days=interval)
               if status == MatterStatus.OPEN.value and start is not None else None)
        rows.matters.append({
            "mid": matter.id, "matter_type_code": code, "status": status, "closed_on": closed,
            "report_interval_days": shape.interval, "report_due_on": due,
            "report_reminded_for": due if self.reminded and due is not None and due < today
            else None,
            "expectation_gaps": len([e for e in Expectation if e.value not in recorded])})

    def _english(self, matter: Matter) -> bool:
        return matter.client is not None and matter.client.language == "en"

    def _expectations(self, matter: Matter, code: str, shape: Shape, engaged: date,
                      first: date | None, rows: Rows) -> dict[str, datetime]:
        """The entries recorded at engagement (or late); returns when each item was first
        recorded."""
        rng = self.rng
        english = self._english(matter)
        amount = int(matter.fees_agreed) if matter.fees_agreed else rng.randrange(
            20_000, 300_000, 1_000)
        months = rng.choice((6, 8, 10, 12, 18)) if code != "labour" else rng.choice((2, 3, 4))
        lo = rng.randint(5, 60)
        values = {"amount": f"{amount:,}", "costs": f"{amount // 10:,}",
                  "pct": rng.choice((8, 10, 15)), "rate": rng.choice((1_500, 2_000, 3_000)),
                  "months": months, "lo": lo, "hi": lo + rng.randint(5, 40)}
        recorded: dict[str, datetime] = {}
        for item in Expectation:
            if item.value in shape.missing or (item.value in shape.late and first is None):
                continue
            day = (first + timedelta(days=rng.randint(1, 30)) if item.value in shape.late
                   else engaged + timedelta(days=rng.choice((0, 0, 0, 1, 2))))
            if day > self.today:
                continue
            at = self._moment(day)
            recorded[item.value] = at
            rows.entries.append(self._entry(matter, item, _text(item, code, english, rng)
                                            .format(**values), day, at))
        if shape.revised in recorded:
            day = recorded[shape.revised].astimezone(LOCAL_TZ).date() + timedelta(
                days=rng.randint(30, 200))
            if day <= self.today:
                values["amount"] = f"{amount * rng.choice((12, 13, 15)) // 10:,}"
                text = (REVISED_EN if english else REVISED)[shape.revised]
                rows.entries.append(self._entry(matter, Expectation(shape.revised),
                                                text.format(**values), day, self._moment(day)))
        return recorded

    def _entry(self, matter: Matter, item: Expectation, text: str, day: date,
               at: datetime) -> dict[str, Any]:
        return {"matter_id": matter.id, "item": item.value, "text": text,
                "given_on": day if item == Expectation.COMPLAINTS_PROCEDURE else None,
                "recorded_at": at, "recorded_by_id": matter.responsible_lawyer_id}

    def _report_days(self, opened: date, shape: Shape, interval: int,
                     first: date | None) -> tuple[list[date], date | None]:
        """The days reported on, and the one of them logged only after the complaint."""
        rng = self.rng
        end = shape.closed_on or self.today
        quiet = None
        if shape.silence and first is not None and first <= end:
            quiet = (first - timedelta(days=shape.silence),
                     first + timedelta(days=rng.randint(3, 20)))

        low, spread = shape.pace[0], shape.pace[1] - shape.pace[0]

        def step() -> timedelta:
            return timedelta(days=max(5, round(interval * (low + rng.random() * spread))))

        days: list[date] = []
        day = opened + step()
        while day <= end:
            if quiet is not None and quiet[0] < day < quiet[1]:
                day = quiet[1]
                continue
            days.append(day)
            day += step()
        if shape.stopped is not None:
            last = self.today - timedelta(days=shape.stopped)
            days = [d for d in days if d < last] + ([last] if last >= opened else [])
        if shape.closed_on is not None and shape.closed_on not in days:
            days.append(shape.closed_on)  # the closing report
        backfilled = None
        if shape.backfilled and quiet is not None and shape.silence > 20:
            backfilled = quiet[0] + timedelta(days=rng.randint(10, shape.silence - 10))
            if opened <= backfilled < first and backfilled not in days:
                days.append(backfilled)
            else:
                backfilled = None
        return sorted(days), backfilled

    def _reports(self, matter: Matter, code: str, shape: Shape, interval: int,
                 first: date | None, rows: Rows) -> date | None:
        """Log the reports; returns the last day reported on."""
        rng = self.rng
        days, backfilled = self._report_days(matter.opened_on, shape, interval, first)
        english = self._english(matter)
        client = matter.client.name if matter.client is not None else ""
        lawyer = self.names.get(matter.responsible_lawyer_id, "")
        for number, day in enumerate(days):
            channel = _pick(rng, CHANNELS)
            if english and channel != ReportChannel.MEETING.value:
                channel = ReportChannel.EMAIL.value
            closing = day == shape.closed_on
            summary = self._summary(code, english, number == 0 and not closing, closing)
            text_sent = None
            if channel in WRITTEN and rng.random() < 0.4:
                text_sent = (
                    f"Dear {client},\n\nHere is the latest on {matter.title}.\n\n{summary}\n\n"
                    f"Please do not hesitate to contact me with any question.\n\n{lawyer}"
                    if english else
                    f"{client}：\n\n您好！现将{matter.title}的最新进展报告如下：\n\n{summary}\n\n"
                    f"如有疑问，请随时与我联系。\n\n{lawyer}\n{day.year}年{day.month}月{day.day}日")
            if day == backfilled:  # logged after the complaint
                logged = first + timedelta(days=_upto(rng, 1, 10))
            elif rng.random() < 0.85:
                logged = day
            else:
                logged = day + timedelta(days=_upto(rng, 1, 3))
            rows.reports.append({
                "matter_id": matter.id, "reported_on": day, "channel": channel,
                "summary": summary, "text_sent": text_sent,
                "recorded_at": self._moment(min(logged, self.today), 10, 20),
                "recorded_by_id": matter.responsible_lawyer_id})
        return days[-1] if days else None

    def _summary(self, code: str, english: bool, opening: bool, closing: bool) -> str:
        rng, corporate = self.rng, code == "corporate"
        if english:
            if closing:
                return CLOSING_EN
            happened = ((FIRST_EN_CORPORATE if corporate else FIRST_EN) if opening
                        else _pick(rng, HAPPENED_EN_CORPORATE if corporate else HAPPENED_EN))
            problem = (_pick(rng, PROBLEMS_EN_CORPORATE if corporate else PROBLEMS_EN) + " "
                       if rng.random() < 0.35 else "")
            return f"{happened} {problem}{_pick(rng, NEXT_EN_CORPORATE if corporate else NEXT_EN)}"
        if closing:
            return _pick(rng, CLOSING)
        happened = FIRST[code] if opening else _pick(rng, HAPPENED[code])
        problem = (_pick(rng, PROBLEMS_CORPORATE if corporate else PROBLEMS).format(
            amount=f"{_upto(rng, 6, 60) * 500:,}") if rng.random() < 0.35 else "")
        return happened + problem + _pick(rng, NEXT_CORPORATE if corporate else NEXT)

    def _checklist(self, matter: Matter, code: str, shape: Shape, engaged: date | None,
                   recorded: Mapping[str, datetime], archived: date | None, rows: Rows) -> None:
        """Copy the type's template (as core.start_checklist does) and tick each step done by
        now: the day it was done, by the responsible lawyer."""
        rng, closed = self.rng, shape.closed_on
        steady = not (shape.silence or shape.stopped) and shape.pace != PACES[-1]
        strategy_steps = 0
        for position, (template_id, stage, label_zh, label_en, needs_document) in enumerate(
                self.templates[code], start=1):
            at = day = None
            tied = next((item for word, item in STEP_EXPECTATIONS.items() if word in label_zh),
                        None)
            if engaged is None:
                pass
            elif tied is not None:
                at = recorded.get(tied)
            elif stage == Stage.RECEPTION:
                day = matter.opened_on
            elif stage == Stage.CONFLICT_CHECK:
                day = min(matter.opened_on + timedelta(days=rng.randint(0, 2)), engaged)
            elif stage == Stage.ENGAGEMENT:
                day = engaged
            elif stage == Stage.STRATEGY:
                strategy_steps += 1
                day = engaged + timedelta(days=rng.randint(3, 25) if strategy_steps == 1
                                          else rng.randint(40, 200))
            elif stage == Stage.PROGRESS:
                day = closed if steady else None
            elif stage == Stage.CLOSING and closed is not None:
                day = max(closed - timedelta(days=rng.randint(0, 5)), matter.opened_on)
            elif stage == Stage.ARCHIVING:
                day = archived
            if day is not None and day <= (closed or self.today) and (
                    stage == Stage.RECEPTION or rng.random() >= 0.03):  # the odd step forgotten
                at = self._moment(day)
            rows.checklist.append({
                "matter_id": matter.id, "template_item_id": template_id, "stage": stage,
                "label_zh": label_zh, "label_en": label_en, "needs_document": needs_document,
                "position": position, "ticked_at": at,
                "ticked_by_id": matter.responsible_lawyer_id if at is not None else None})


def _text(item: Expectation, code: str, english: bool, rng: random.Random) -> str:
    """An expectation's text (placeholders filled by the caller)."""
    corporate = code == "corporate"
    if item == Expectation.SCOPE:
        return (SCOPE_EN_CORPORATE if corporate else SCOPE_EN) if english else SCOPE[code]
    if item == Expectation.FEES:
        return rng.choice(FEES_EN if english else FEES_TEXT)
    if item == Expectation.RISKS:
        risks = rng.sample(((RISKS_EN_CORPORATE, RISKS_CORPORATE) if corporate
                            else (RISKS_EN, RISKS_TEXT))[0 if english else 1], 2)
        return " ".join(risks) if english else "".join(risks)
    if item == Expectation.OUTCOMES:
        if english:
            return OUTCOMES_EN_CORPORATE if corporate else OUTCOMES_EN
        return OUTCOMES_TEXT.get(code, OUTCOMES_DEFAULT)
    if item == Expectation.TIMETABLE:
        if english:
            return TIMETABLE_EN_CORPORATE if corporate else TIMETABLE_EN
        return TIMETABLE_TEXT.get(code, TIMETABLE_DEFAULT)
    return COMPLAINTS_EN if english else COMPLAINTS_TEXT


def _pick(rng: random.Random, choices: Sequence[Any]) -> Any:
    """rng.choice, faster (one draw; hot loops call it a hundred thousand times)."""
    return choices[int(rng.random() * len(choices))]


def _upto(rng: random.Random, low: int, high: int) -> int:
    """rng.randint, faster (one draw)."""
    return low + int(rng.random() * (high - low + 1))


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


MATTER_COLUMNS = ("matter_type_code", "status", "closed_on", "report_interval_days",
                  "report_due_on", "report_reminded_for", "expectation_gaps")


def _write(rows: Rows, matters: Mapping[int, Matter]) -> None:
    for model, values in ((MatterChecklistItem, rows.checklist), (ExpectationEntry, rows.entries),
                          (ProgressReport, rows.reports)):
        if values:
            db.session.execute(insert(model.__table__), values)
    if rows.matters:
        table = Matter.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("mid"))
            .values({name: bindparam(f"new_{name}") for name in MATTER_COLUMNS}),
            [{"mid": values["mid"], **{f"new_{name}": values[name] for name in MATTER_COLUMNS}}
             for values in rows.matters],
            execution_options={"synchronize_session": False})
        for values in rows.matters:  # the loaded matters show what was written
            for name in MATTER_COLUMNS:
                set_committed_value(matters[values["mid"]], name, values[name])


# The demo firm (portal/demo.py MATTERS): M-2026-0090 has had no report for 85 days (the
# committee case's complaint, received ten days ago, says so: portal/demo_cases.py), and
# M-2025-0188 lacks the fee estimate and the risks. The others are complete and up to date.
DEMO_FIRM_SHAPES = {
    "M-2026-0090": Shape(stopped=85),
    "M-2025-0188": Shape(missing=frozenset({FEES, RISKS})),
}


def seed_demo_firm(matters: Sequence[Matter], now: datetime, *, reminded: bool = True) -> None:
    """The demo firm's few matters, as DEMO_FIRM_SHAPES says."""
    Prevention(random.Random("demo-firm"), now, reminded=reminded).add(
        matters, shapes=DEMO_FIRM_SHAPES)
