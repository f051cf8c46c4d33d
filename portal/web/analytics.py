"""/analytics (partners only): the key figures, a chart per figure with the table of its
numbers beside it (each count links to the complaints behind it), filters applied by htmx
with the URL kept, the rows as CSV and XLSX, and the quarterly report as a PDF.

Charts are same-origin SVG files (`/analytics/charts/<name>.svg?<the same filters>`) shown
with <img>: no script or inline style reaches the page, so its CSP stays as strict as
everywhere else. Figures are computed once per data version and filters
(`page_cache.remember_value`), so the page's charts do not each run the aggregate again.
Bad filters answer 422 with the message, never 500.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock
from portal.db import db
from portal.errors import render_error
from portal.models.investigation import SEVERITY_LABELS
from portal.models.user import Role, User
from portal.security import roles
from portal.services.analytics import (
    calendar_table,
    charts,
    exports,
    facts,
    figures,
    filters,
    quarterly,
)
from portal.services.analytics.filters import Criteria, FilterError
from portal.web import htmx, page_cache
from portal.web.downloads import DOWNLOAD_CSP, content_disposition

bp = Blueprint("analytics", __name__)
PAGE, PARTIAL = "analytics/index.html", "analytics/_analytics.html"
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
QUARTERS_SHOWN = 8
LINKED = ("month", "channel", "category", "department", "severity", "root_cause")


def _viewer() -> User:
    return current_user._get_current_object()


def _language() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh"


def _criteria(catalogue: filters.Catalogue, today: date) -> Criteria:
    return filters.parse(request.args, today, departments=catalogue.department_ids)


def _figures(criteria: Criteria, today: date) -> figures.Figures:
    """Fill the working-day table for the period (a short write, rarely), then the figures,
    kept for this data version and viewer."""
    calendar_table.ensure(criteria.start, date(max(today.year, criteria.end.year), 12, 31))
    viewer = _viewer()

    return page_cache.remember_value(  # type: ignore[return-value]
        "analytics.figures", (criteria, today),
        lambda: figures.compute(viewer, criteria, today))


# -- the page ---------------------------------------------------------------------------------

def _quarters(today: date) -> list[str]:
    quarter, found = filters.quarter_of(today), []
    for _n in range(QUARTERS_SHOWN):
        found.append(quarter)
        quarter = filters.previous_quarter(quarter)
    return found


def _drill(criteria: Criteria, **facet: str) -> str:
    return url_for("intake.list_complaints", **filters.for_drill_down(criteria, **facet))


def _key_figures(result: figures.Figures) -> list[dict[str, str]]:
    spans = result.spans
    mean = result.satisfaction_mean

    def pair(metric: str) -> str:
        return f"{quarterly.days(spans[metric].median)} / {quarterly.days(spans[metric].p90)}"

    refunds = quarterly.money(result.refund_total)
    return [
        {"label": _("Complaints"), "value": str(result.total)},
        {"label": _("Acknowledged on time"), "value": quarterly.percent(result.ack_share)},
        {"label": _("First response on time"), "value": quarterly.percent(result.response_share)},
        {"label": _("Working days to acknowledge (median / 90th percentile)"),
         "value": pair("acknowledge")},
        {"label": _("Working days to decide (median / 90th percentile)"),
         "value": pair("decide")},
        {"label": _("Working days to close (median / 90th percentile)"),
         "value": pair("close")},
        {"label": _("Refunds granted"), "value": refunds},
        {"label": _("Average satisfaction"),
         "value": "–" if mean is None else _("%(mean)s of 5 (%(n)d answers)",
                                             mean=f"{mean:.1f}", n=result.satisfaction_answers)},
        {"label": _("Improvement actions open (overdue)"),
         "value": f"{result.actions.get('open', 0) + result.actions.get('overdue', 0)} "
                  f"({result.actions.get('overdue', 0)})"},
    ]


def _cell(value: Any, link: str | None = None) -> dict[str, Any]:
    if value is None or isinstance(value, float):  # a span: "–" when nothing was counted
        return {"text": quarterly.days(value), "link": link}
    return {"text": value if isinstance(value, str) else str(value), "link": link}


def _section(result: figures.Figures, chart: str, names: charts.Names,
             catalogue: filters.Catalogue) -> dict[str, Any]:
    criteria = result.criteria
    data = charts.rows(result, chart, names)
    if chart in LINKED:
        columns = [_("Complaints")]
        table = []
        for row in data:
            facet = (catalogue.cause_code(row.key) if chart == "root_cause" else row.key)
            link = _drill(criteria, **{chart: facet}) if facet else None
            table.append({"label": row.label, "cells": [_cell(row.values[0], link)]})
    elif chart == "timeliness":
        columns = [names.of("status", s) for s in facts.TIMELINESS]
        table = [{"label": row.label,
                  "cells": [_cell(n, _drill(criteria, **{row.key: status}))
                            for status, n in zip(facts.TIMELINESS, row.values, strict=True)]}
                 for row in data]
    elif chart == "spans":
        columns = [_("Complaints counted"), _("Median"), _("90th percentile")]
        table = [{"label": row.label, "cells": [_cell(v) for v in row.values]} for row in data]
    elif chart == "satisfaction":
        columns = [_("Answers")]
        table = [{"label": row.label, "cells": [_cell(row.values[0])]} for row in data]
    elif chart == "prevention":  # no list filter for a prevention step: plain numbers
        columns = [_("Complaints")]
        table = [{"label": row.label, "cells": [_cell(row.values[0])]} for row in data]
    else:  # remedies
        columns = [_("Granted"), _("Amount")]
        table = [{"label": row.label,
                  "cells": [_cell(row.values[0]),
                            _cell(f"{row.values[1]:,.2f}" if row.values[1] else "–")]}
                 for row in data]
    return {"name": chart, "title": names.titles[chart], "columns": columns, "rows": table,
            "src": url_for("analytics.chart", name=chart, **criteria.query_args())}


def _context(today: date) -> tuple[dict[str, Any], int]:
    catalogue = filters.catalogue()
    language = _language()
    context: dict[str, Any] = {
        "departments": [(str(i), en if language == "en" else zh)
                        for i, zh, en in catalogue.departments],
        "severities": [(str(k), str(v)) for k, v in SEVERITY_LABELS.items()],
        "quarters": _quarters(today), "error": None, "result": None,
        "values": {name: (request.args.get(name) or "").strip()[:40]
                   for name in ("from", "to", "department", "severity", "period")},
    }
    try:
        criteria = _criteria(catalogue, today)
    except FilterError as error:
        context["error"] = error
        return context, 422
    result = _figures(criteria, today)
    names = charts.names_for(catalogue, language)
    args = criteria.query_args()
    context.update(
        criteria=criteria, result=result, key_figures=_key_figures(result),
        values={"from": args["from"], "to": args["to"], "department": args.get("department", ""),
                "severity": args.get("severity", "")},
        sections=[_section(result, chart, names, catalogue) for chart in charts.CHARTS],
        exports={"csv": url_for("analytics.export_csv", **args),
                 "xlsx": url_for("analytics.export_xlsx", **args)},
        report_quarter=filters.quarter_of(min(criteria.end, today)),
    )
    return context, 200


@bp.route("/analytics")
@roles(Role.PARTNER)
def index():
    def render() -> Response:
        context, status = _context(clock.today())
        return htmx.page_or_partial(PAGE, PARTIAL, status=status, **context)

    return page_cache.remember(render)


# -- charts -----------------------------------------------------------------------------------

@bp.route("/analytics/charts/<name>.svg")
@roles(Role.PARTNER)
def chart(name: str):
    if name not in charts.CHARTS:
        abort(404)

    def render() -> Response:
        today = clock.today()
        catalogue = filters.catalogue()
        try:
            criteria = _criteria(catalogue, today)
        except FilterError as error:
            return Response(error.message, status=422, mimetype="text/plain")
        result = _figures(criteria, today)
        data = charts.svg(result, name, charts.names_for(catalogue, _language()))
        return Response(data, mimetype="image/svg+xml")

    return page_cache.remember(render)


@bp.after_request
def _svg_policy(response: Response) -> Response:
    """The chart's own policy (also on a copy served from the page cache): styles inside the
    SVG, nothing else, no script."""
    if request.endpoint == "analytics.chart" and response.status_code == 200:
        response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


# -- exports ----------------------------------------------------------------------------------

def _export_setup() -> tuple[Criteria, charts.Names, date] | Response:
    today = clock.today()
    catalogue = filters.catalogue()
    try:
        criteria = _criteria(catalogue, today)
    except FilterError as error:
        return make_response(render_error(422, error.message))
    calendar_table.ensure(criteria.start, date(max(today.year, criteria.end.year), 12, 31))
    return criteria, charts.names_for(catalogue, _language()), today


def _file_name(criteria: Criteria, extension: str) -> str:
    args = criteria.query_args()
    parts = ["complaints", args["from"], args["to"]]
    if "department" in args:
        parts.append(f"department-{args['department']}")
    if "severity" in args:
        parts.append(args["severity"])
    return "_".join(parts) + "." + extension  # digits, letters, - and _ only


def _download(response: Response, name: str, content_type: str) -> Response:
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = content_disposition(name, name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


@bp.route("/analytics/export.csv")
@roles(Role.PARTNER)
def export_csv():
    setup = _export_setup()
    if isinstance(setup, Response):
        return setup
    criteria, names, today = setup
    lines = exports.lines(_viewer(), criteria, today, names)
    response = Response(stream_with_context(exports.csv_chunks(lines)))
    return _download(response, _file_name(criteria, "csv"), "text/csv; charset=utf-8")


@bp.route("/analytics/export.xlsx")
@roles(Role.PARTNER)
def export_xlsx():
    setup = _export_setup()
    if isinstance(setup, Response):
        return setup
    criteria, names, today = setup
    data = exports.xlsx_bytes(exports.lines(_viewer(), criteria, today, names),
                              title=criteria.label())
    return _download(Response(data), _file_name(criteria, "xlsx"),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# -- the quarterly report ---------------------------------------------------------------------

@bp.route("/analytics/quarterly.pdf")
@roles(Role.PARTNER)
def quarterly_pdf():
    """Read the facts, end the read, then render with no transaction open."""
    today = clock.today()
    quarter = (request.args.get("quarter") or "").strip() or filters.quarter_of(today)
    try:
        data = quarterly.facts(_viewer(), quarter, today)
    except FilterError as error:
        return make_response(render_error(422, error.message))
    db.session.commit()  # end the read before rendering
    name = f"quarterly-report-{data['quarter']}.pdf"
    return _download(Response(quarterly.render(data)), name, "application/pdf")
