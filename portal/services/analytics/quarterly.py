"""The quarterly report: a bilingual PDF of the quarter's figures beside the previous
quarter's, the charts (SVG, drawn by WeasyPrint as vectors), the improvement actions and the
bulletins published in the quarter.

`facts(viewer, quarter)` reads everything as plain data (and fills the working-day table
first, in its own short write); the caller then ends the read and calls `render(facts)` with
no transaction open. `viewer` None is the whole firm (the command line); a partner's report
from /analytics counts only the complaints that partner may see.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal import clock
from portal.clock import LOCAL_TZ
from portal.db import db
from portal.documents.acknowledgement import firm_context
from portal.documents.pdf import render_pdf
from portal.locales import LANGUAGES, locale_of
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.followup import (
    ACTION_KIND_LABELS,
    ACTION_STATUS_LABELS,
    OPEN_ACTION_STATUSES,
    ImprovementAction,
)
from portal.models.investigation import CATEGORY_LABELS
from portal.models.user import User
from portal.services.analytics import calendar_table, charts, figures, filters
from portal.services.analytics.filters import FilterError

TEMPLATE = "pdf/quarterly.html"
CHARTS = ("month", "timeliness", "spans", "category", "channel", "department", "severity",
          "root_cause", "satisfaction", "remedies")
TABLED = ("category", "channel", "department", "severity", "root_cause")


def quarter_criteria(quarter: str) -> filters.Criteria:
    bounds = filters.quarter_bounds(quarter)
    if bounds is None:
        raise FilterError("quarter", _("“%(value)s” is not a quarter: use the form 2026Q3.",
                                       value=quarter[:40]))
    return filters.Criteria(start=bounds[0], end=bounds[1])


def _label(labels: dict, code: str) -> dict[str, str]:
    found = {}
    for language in LANGUAGES:
        with force_locale(locale_of(language)):
            found[language] = next((str(v) for k, v in labels.items() if k == code), code)
    return found


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".removesuffix(".0")


def money(amounts: dict) -> str:
    if not amounts:
        return "0"
    return "; ".join(f"{currency} {amount:,.2f}" for currency, amount in sorted(amounts.items()))


def key_figures(now: figures.Figures, before: figures.Figures) -> list[dict[str, Any]]:
    """(labels in both languages, this quarter, the previous one) for the summary table."""
    def span(fig: figures.Figures, metric: str, which: str) -> str:
        return days(getattr(fig.spans[metric], which))

    def mean(fig: figures.Figures) -> str:
        if fig.satisfaction_mean is None:
            return "–"
        return f"{fig.satisfaction_mean:.2f} (n={fig.satisfaction_answers})"

    rows = [
        ({"zh": "投诉数", "en": "Complaints received"}, lambda f: str(f.total)),
        ({"zh": "按时确认收悉的比例", "en": "Acknowledged on time"},
         lambda f: percent(f.ack_share)),
        ({"zh": "按时首次答复的比例", "en": "First response on time"},
         lambda f: percent(f.response_share)),
    ]
    for metric, zh, en in (("acknowledge", "确认收悉", "acknowledge"),
                           ("decide", "作出决定", "decide"), ("close", "结案", "close")):
        rows.append(({"zh": f"{zh}所需工作日（中位数）", "en": f"Working days to {en} (median)"},
                     lambda f, m=metric: span(f, m, "median")))
        rows.append(({"zh": f"{zh}所需工作日（第90百分位）",
                      "en": f"Working days to {en} (90th percentile)"},
                     lambda f, m=metric: span(f, m, "p90")))
    rows += [
        ({"zh": "退费总额", "en": "Refunds granted"}, lambda f: money(f.refund_total)),
        ({"zh": "满意度平均分（1–5）", "en": "Average satisfaction (1–5)"}, mean),
    ]
    return [{"label": label, "now": value(now), "before": value(before)}
            for label, value in rows]


def _actions(criteria: filters.Criteria, today: date) -> list[dict[str, Any]]:
    """Actions open at the end of the quarter or finished in it (planned before its end)."""
    start = filters.local_midnight(criteria.start)
    end = filters.local_midnight(criteria.end + timedelta(days=1))
    rows = db.session.scalars(
        select(ImprovementAction).options(selectinload(ImprovementAction.owner))
        .where(ImprovementAction.created_at < end,
               or_(ImprovementAction.status.in_([s.value for s in OPEN_ACTION_STATUSES]),
                   ImprovementAction.updated_at >= start))
        .order_by(ImprovementAction.due, ImprovementAction.id))
    return [{"title": action.title, "owner": action.owner.name, "due": action.due.isoformat(),
             "kind": _label(ACTION_KIND_LABELS, action.kind),
             "status": _label(ACTION_STATUS_LABELS, action.status),
             "overdue": action.is_overdue(today)} for action in rows]


def _bulletins(criteria: filters.Criteria) -> list[dict[str, Any]]:
    start = filters.local_midnight(criteria.start)
    end = filters.local_midnight(criteria.end + timedelta(days=1))
    rows = db.session.scalars(
        select(Bulletin).where(Bulletin.status == BulletinStatus.PUBLISHED,
                               Bulletin.published_at >= start, Bulletin.published_at < end)
        .order_by(Bulletin.published_at, Bulletin.id))
    return [{"title": b.title, "published": b.published_at.astimezone(LOCAL_TZ).date()
             .isoformat(),
             "categories": [_label(CATEGORY_LABELS, c) for c in b.categories or []]}
            for b in rows]


def _svg_uri(data: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def facts(viewer: User | None, quarter: str, today: date | None = None) -> dict[str, Any]:
    """Everything the report shows, as plain data (FilterError for a bad quarter)."""
    today = today or clock.today()
    criteria = quarter_criteria(quarter.strip().upper())
    previous = quarter_criteria(filters.previous_quarter(filters.quarter_of(criteria.start)))
    calendar_table.ensure(previous.start, date(max(today.year, criteria.end.year), 12, 31))
    now = figures.compute(viewer, criteria, today)
    before = figures.compute(viewer, previous, today)
    catalogue = filters.catalogue()
    per_language = {}
    for language in LANGUAGES:
        with force_locale(locale_of(language)):
            per_language[language] = charts.names_for(catalogue, language)
    both = charts.joined(per_language["zh"], per_language["en"])
    tables = {}
    for chart in TABLED:
        tables[chart] = [{"label": {lang: per_language[lang].of(chart, row.key)
                                    for lang in LANGUAGES},
                          "n": row.values[0]} for row in charts.rows(now, chart, both)]
    return {
        "quarter": filters.quarter_of(criteria.start),
        "previous": filters.quarter_of(previous.start),
        "months": criteria.months,
        "whole_firm": viewer is None,
        "viewer": None if viewer is None else viewer.name,
        "key_figures": key_figures(now, before),
        "charts": [{"name": chart, "title": {lang: per_language[lang].titles[chart]
                                             for lang in LANGUAGES},
                    "uri": _svg_uri(charts.svg(now, chart, both))} for chart in CHARTS],
        "tables": tables,
        "actions": _actions(criteria, today),
        "open_actions": now.actions.get("open", 0) + now.actions.get("overdue", 0),
        "overdue_actions": now.actions.get("overdue", 0),
        "bulletins": _bulletins(criteria),
    }


def context(data: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    heading = {"zh": f"投诉处理季度报告 {data['quarter']}",
               "en": f"Complaints quarterly report {data['quarter']}"}
    return {**data, "kind": "quarterly", "language": "zh", "languages": list(LANGUAGES),
            "lang_tag": "zh-CN", "heading": heading, "title": heading,
            # Every page's footer: ASCII only (pdf/_notice.css prints it through tojson).
            "reference": f"INTERNAL - Quarterly report {data['quarter']}",
            "created_iso": now.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
            "firm": firm_context(current_app.config)}


def render(data: dict[str, Any]) -> bytes:
    """The PDF (call with no transaction open: rendering takes a second or two)."""
    return render_pdf(TEMPLATE, context(data))
