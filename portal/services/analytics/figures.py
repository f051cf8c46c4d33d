"""The figures of /analytics, computed in the database: one aggregate statement, whatever the
number of complaints.

The per-complaint facts (`facts.base`, read from the stored `complaint_fact` rows) are
materialized once as a CTE; each figure is a GROUP
BY over it, and the statement is their UNION ALL, each row (figure, key, count, value):
complaints by month, channel, category (the JSON list's elements), department, severity and
root cause; acknowledgement and first response on time, late or pending; remedies of the
current decisions by kind with their amounts, refunds by currency; the latest satisfaction
score; open and overdue improvement actions; the prevention steps the complaints' matters
lacked; and, for the working-day spans, the rows around the median and the 90th percentile.

Percentiles are interpolated between the two nearest ranks (as PostgreSQL's percentile_cont):
the q-th percentile of n sorted values is at position p = 1 + q (n - 1), and the value is
v[floor(p)] + (p - floor(p)) (v[ceil(p)] - v[floor(p)]). Spans are whole days, so SQL counts
the values per day (a histogram), runs a total over those bins with SUM() OVER (SQLite has no
percentile function), and keeps the bins holding ranks floor(p) and ceil(p).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from portal.db import db
from portal.models.analytics import ComplaintFact
from portal.models.followup import OPEN_ACTION_STATUSES, ComplaintRootCause, ImprovementAction
from portal.models.resolution import REFUNDS, DecidedRemedy, Decision
from portal.models.user import User
from portal.services.analytics import facts
from portal.services.analytics import prevention as prevention_steps
from portal.services.analytics.filters import Criteria
from portal.services.analytics.sql import json_elements

QUANTILES = {"median": 5, "p90": 9}  # tenths
DIMENSIONS = ("month", "channel", "category", "department", "severity", "root_cause")
VALUE = Numeric(16, 2)
FIGURE_COLUMNS = ("id", "month", "channel", "severity", "categories", "department_id",
                  "ack_status", "response_status", "satisfaction")
REFUND_KINDS = frozenset(kind.value for kind in REFUNDS)


@dataclass(frozen=True)
class Span:
    n: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Money:
    count: int
    amount: Decimal


@dataclass
class Figures:
    """Plain numbers keyed by stored codes (labels are the page's business)."""

    criteria: Criteria
    today: date
    total: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # dimension -> key -> n
    ack: dict[str, int] = field(default_factory=dict)  # on_time / late / pending
    response: dict[str, int] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)  # acknowledge / decide / close
    remedies: dict[str, Money] = field(default_factory=dict)  # kind -> count, amount
    refunds: dict[str, Money] = field(default_factory=dict)  # currency -> count, amount
    satisfaction: dict[int, int] = field(default_factory=dict)  # score -> complaints
    actions: dict[str, int] = field(default_factory=dict)  # open / overdue
    # What the matter lacked at receipt: services/analytics/prevention.py's STEPS -> complaints
    prevention: dict[str, int] = field(default_factory=dict)

    def by(self, dimension: str) -> dict[str, int]:
        return self.counts.get(dimension, {})

    def by_month(self) -> list[tuple[str, int]]:
        counted = self.by("month")
        return [(month, counted.get(month, 0)) for month in self.criteria.months]

    @staticmethod
    def _share(counted: dict[str, int]) -> float | None:
        decided = counted.get(facts.ON_TIME, 0) + counted.get(facts.LATE, 0)
        return counted.get(facts.ON_TIME, 0) / decided if decided else None

    @property
    def ack_share(self) -> float | None:
        """Acknowledged on time, of those on time or late (pending ones are not judged)."""
        return self._share(self.ack)

    @property
    def response_share(self) -> float | None:
        return self._share(self.response)

    @property
    def satisfaction_answers(self) -> int:
        return sum(self.satisfaction.values())

    @property
    def satisfaction_mean(self) -> float | None:
        answers = self.satisfaction_answers
        if not answers:
            return None
        return sum(score * n for score, n in self.satisfaction.items()) / answers

    @property
    def refund_total(self) -> dict[str, Decimal]:
        return {currency: money.amount for currency, money in self.refunds.items()}


def _row(figure: str, key, n, value=None):
    return (literal_column(f"'{figure}'", String).label("figure"),
            cast(key, String).label("key") if key is not None else cast(null(), String)
            .label("key"),
            cast(n, Integer).label("n"),
            cast(value if value is not None else null(), VALUE).label("value"))


def statement(viewer: User | None, criteria: Criteria, today: date):
    """The one statement: rows (figure, key, n, value)."""
    full = facts.base(viewer, criteria.conditions(), today, spans=True).subquery("base")
    # Only what the figures read: a narrower CTE is quicker to materialize.
    rows = select(*(full.c[name] for name in FIGURE_COLUMNS),
                  *(full.c[f"{name}_days"] for name in facts.SPANS)).cte("facts")
    if db.engine.dialect.name in ("sqlite", "postgresql"):
        rows = rows.prefix_with("MATERIALIZED")  # computed once, read by every branch
    count = func.count()
    parts = [select(*_row("total", None, count)).select_from(rows)]
    for dimension, column in (("month", rows.c.month), ("channel", rows.c.channel),
                              ("severity", rows.c.severity),
                              ("department", rows.c.department_id),
                              ("ack", rows.c.ack_status), ("response", rows.c.response_status)):
        parts.append(select(*_row(dimension, column, count)).select_from(rows)
                     .group_by(column))
    category = json_elements(rows.c.categories, "category")
    parts.append(select(*_row("category", category.c.value, func.count(rows.c.id.distinct())))
                 .select_from(rows).join(category, literal_column("1") == 1)
                 .group_by(category.c.value))
    cause = ComplaintRootCause
    parts.append(select(*_row("root_cause", cause.root_cause_id,
                              func.count(rows.c.id.distinct())))
                 .select_from(rows).join(cause, cause.complaint_id == rows.c.id)
                 .group_by(cause.root_cause_id))
    parts.append(select(*_row("satisfaction", rows.c.satisfaction, count)).select_from(rows)
                 .where(rows.c.satisfaction.is_not(None)).group_by(rows.c.satisfaction))
    parts += _remedy_parts(rows)
    overdue = case((ImprovementAction.due < today, "overdue"), else_="open")
    parts.append(select(*_row("actions", overdue, count))
                 .where(ImprovementAction.status.in_([s.value for s in OPEN_ACTION_STATUSES]))
                 .group_by(overdue))
    parts.append(_percentile_part(rows))
    parts += _prevention_parts(rows)
    return union_all(*parts)


def _prevention_parts(rows) -> list:
    """The prevention steps' sums, from the stored fact rows of the complaints counted: one
    lookup by key per complaint, not a second pass of the visibility rule and the filters."""
    table = ComplaintFact.__table__
    sums = (select(*prevention_steps.aggregates()).select_from(rows)
            .join(table, table.c.complaint_id == rows.c.id).cte("prevention_sums"))
    return [select(*_row("prevention", literal(step, String), sums.c[step])).select_from(sums)
            for step in prevention_steps.STEPS]


def _remedy_parts(rows) -> list:
    """Remedies of the current decisions by kind and currency, in one pass over them
    (`compute` adds them up by kind, and the refunds by currency)."""
    later = aliased(Decision, name="later")
    current = ~(select(later.id).where(later.complaint_id == Decision.complaint_id,
                                       later.number > Decision.number).exists())
    key = DecidedRemedy.kind + literal_column("':'", String) + DecidedRemedy.currency
    return [select(*_row("remedy", key, func.count(), func.sum(DecidedRemedy.amount)))
            .select_from(rows)
            .join(Decision, and_(Decision.complaint_id == rows.c.id, current))
            .join(DecidedRemedy, DecidedRemedy.decision_id == Decision.id)
            .group_by(DecidedRemedy.kind, DecidedRemedy.currency)]


def _percentile_part(rows):
    """The histogram bins (metric, days) holding the ranks around each quantile: a running
    total over the bins (a few hundred rows) instead of numbering every complaint."""
    each = [select(literal_column(f"'{name}'", String).label("metric"),
                   rows.c[f"{name}_days"].label("days"))
            .where(rows.c[f"{name}_days"].is_not(None)) for name in facts.SPANS]
    every = union_all(*each).subquery("every_span")
    bins = (select(every.c.metric, every.c.days, func.count().label("n"))
            .group_by(every.c.metric, every.c.days).subquery("bins"))
    running = select(
        bins.c.metric, bins.c.days, bins.c.n,
        cast(func.sum(bins.c.n).over(partition_by=bins.c.metric, order_by=bins.c.days),
             Integer).label("upto"),
        cast(func.sum(bins.c.n).over(partition_by=bins.c.metric), Integer).label("total"),
    ).subquery("running")
    wanted = []
    for tenths in QUANTILES.values():
        scaled = (running.c.total - 1) * tenths
        for rank in (1 + scaled // 10, 1 + (scaled + 9) // 10):
            wanted.append(and_(running.c.upto - running.c.n < rank, rank <= running.c.upto))
    key = (running.c.metric + literal_column("':'", String)
           + cast(running.c.upto - running.c.n + 1, String) + literal_column("':'", String)
           + cast(running.c.upto, String))
    return select(*_row("span", key, running.c.total, running.c.days)).where(or_(*wanted))


def without_jit() -> None:
    """PostgreSQL compiles a statement this costly with LLVM (jit, on by default above a cost
    of 100,000), which takes about a second, longer than running it: off for the rest of this
    (read) transaction."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def compute(viewer: User | None, criteria: Criteria, today: date) -> Figures:
    """The figures of the complaints `viewer` may see that `criteria` keeps (the working-day
    table must cover the period: `calendar_table.ensure` first)."""
    figures = Figures(criteria=criteria, today=today)
    without_jit()
    ranks: dict[str, dict[tuple[int, int], float]] = {}
    totals: dict[str, int] = {}
    for figure, key, n, value in db.session.execute(statement(viewer, criteria, today)):
        if figure == "total":
            figures.total = int(n)
        elif figure in DIMENSIONS:
            figures.counts.setdefault(figure, {})[key if key is not None else ""] = int(n)
        elif figure in ("ack", "response"):
            if key is not None:
                getattr(figures, figure)[key] = int(n)
        elif figure == "satisfaction":
            figures.satisfaction[int(key)] = int(n)
        elif figure == "remedy":
            kind, currency = key.split(":", 1)
            money = Money(int(n), Decimal(value or 0))
            figures.remedies[kind] = _plus(figures.remedies.get(kind), money)
            if kind in REFUND_KINDS:
                figures.refunds[currency] = _plus(figures.refunds.get(currency), money)
        elif figure == "prevention":
            figures.prevention[key] = int(n or 0)
        elif figure == "actions":
            figures.actions[key] = int(n)
        elif figure == "span":
            metric, first, last = key.split(":")
            ranks.setdefault(metric, {})[(int(first), int(last))] = float(value)
            totals[metric] = int(n)
    for metric in facts.SPANS:
        figures.spans[metric] = _span(ranks.get(metric, {}), totals.get(metric, 0))
    return figures


def _plus(total: Money | None, more: Money) -> Money:
    return more if total is None else Money(total.count + more.count, total.amount + more.amount)


def _span(bins: dict[tuple[int, int], float], n: int) -> Span:
    """The quantiles from the bins around them: (first rank, last rank) -> days."""
    if not n:
        return Span(0, None, None)

    def at(rank: int) -> float:
        return next(days for (first, last), days in bins.items() if first <= rank <= last)

    values = {}
    for name, tenths in QUANTILES.items():
        scaled = (n - 1) * tenths
        low, high = at(1 + scaled // 10), at(1 + (scaled + 9) // 10)
        values[name] = low + (scaled % 10) / 10 * (high - low)
    return Span(n, values["median"], values["p90"])
