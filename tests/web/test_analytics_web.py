"""/analytics in the browser's terms: partners only, the figures of the hand-computed fixture
(tests/unit/test_analytics.py), htmx filters, charts as SVG files, drill-down links to the
complaints list, CSV/XLSX rows, the quarterly PDF and bad input."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import event, select

from portal.clock import LOCAL_TZ
from portal.db import db, writes_by_default
from portal.models import Bulletin, ImprovementAction, User
from portal.models.user import Department
from tests.unit.test_analytics import build_fixture

HX = {"HX-Request": "true"}
Q3 = "/analytics?period=2026Q3"
ROUTES = ["/analytics", "/analytics/charts/month.svg", "/analytics/export.csv",
          "/analytics/export.xlsx", "/analytics/quarterly.pdf?quarter=2026Q3"]


@pytest.fixture
def data(app):
    with app.app_context(), writes_by_default():
        ids = build_fixture()
        partner = db.session.scalar(select(User).where(User.username == "partner"))
        in_q3 = datetime(2026, 8, 10, 10, tzinfo=LOCAL_TZ)
        db.session.add(ImprovementAction(title="收费说明培训 Fee briefing training",
                                         kind="training", owner_id=partner.id,
                                         due=datetime(2026, 10, 30).date(), status="planned",
                                         created_by_id=partner.id, created_at=in_q3,
                                         updated_at=in_q3))
        db.session.add(Bulletin(title="未及时告知开庭时间的投诉", body="正文", month=in_q3.date(),
                                categories=["communication"], status="published",
                                created_by_id=partner.id, published_at=in_q3))
        db.session.commit()
    return ids


def references(html: str) -> list[str]:
    return sorted(set(re.findall(r"TS-2026-\d{5}", html)))


def test_partner_sees_the_quarter_figures_and_tables(partner, data):
    response = partner.get(Q3)
    assert response.status_code == 200
    html = response.text
    assert "24 complaints received in 2026-07 – 2026-09." in html
    assert "88%" in html and "75%" in html  # 21/24 acknowledged, 18/24 answered on time
    assert "23 / 28.6" in html  # working days to decide: median / 90th percentile
    assert "43.5 / 50.2" in html
    assert "CNY 93,000.00" in html
    # Charts are same-origin SVG files carrying the same filters; nothing inline.
    assert 'src="/analytics/charts/category.svg?from=2026-07&amp;to=2026-09"' in html
    assert "<svg" not in html and "<script>" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_filters_swap_the_block_by_htmx_and_keep_the_url(partner, data):
    with partner.application.app_context():
        family = db.session.scalar(select(Department.id).where(
            Department.name_en == "Family and Private Clients"))
    url = f"/analytics?from=2026-07&to=2026-09&department={family}&severity=general"
    response = partner.get(url, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="analytics">')
    assert "<html" not in response.text and "HX-Request" in response.headers["Vary"]
    assert "3 complaints received" in response.text
    assert 'data-hx-push-url="true"' in response.text
    assert f"department={family}&amp;severity=general" in response.text  # charts, exports


def test_each_count_links_to_the_complaints_behind_it(partner, data):
    html = partner.get(Q3).text
    links = re.findall(r'href="(/complaints\?[^"]+)">(\d+)</a>', html)
    by_query = {}
    for href, count in links:
        query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        by_query[tuple(sorted((k, v[0]) for k, v in query.items()))] = (href, int(count))
    checked = 0
    for key, (href, count) in by_query.items():
        facets = dict(key)
        if not ({"category", "root_cause", "ack", "channel"} & set(facets)):
            continue
        page = partner.get(href.replace("&amp;", "&"))
        assert page.status_code == 200
        assert len(references(page.text)) == count, (facets, count)
        checked += 1
    assert checked >= 15
    fees = partner.get("/complaints?state=all&from=2026-07&to=2026-09&category=fees").text
    assert references(fees) == ["TS-2026-00002", "TS-2026-00006", "TS-2026-00007",
                                "TS-2026-00012", "TS-2026-00016", "TS-2026-00019",
                                "TS-2026-00022"]
    assert "Category: Fees and billing" in fees  # the facet is shown and can be removed


def test_the_list_keeps_its_own_filters_and_the_visibility_rule(partner, data):
    june = partner.get("/complaints?state=all&month=2026-06").text
    assert references(june) == ["TS-2026-00030"]  # C29 names partner2 as a respondent
    searched = partner.get("/complaints?state=all&month=2026-07&ack=late&q=TS-2026-00009").text
    assert references(searched) == ["TS-2026-00009"]
    late = partner.get("/complaints?state=all&month=2026-07&ack=late").text
    assert references(late) == ["TS-2026-00008", "TS-2026-00009"]
    ignored = partner.get("/complaints?state=all&month=2026-07&ack=whenever")
    assert ignored.status_code == 200  # an unknown facet value is left out


def test_charts_are_svg_without_script_with_chinese_labels(partner, data):
    partner.language = "zh-CN"
    response = partner.get("/analytics/charts/category.svg?period=2026Q3")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    svg = response.data.decode()
    assert "<script" not in svg and "<!--" not in svg
    assert "沟通" in svg and "收费与账单" in svg  # Chinese labels as text
    assert "Noto Sans CJK SC" in svg
    assert partner.get("/analytics/charts/nothing.svg").status_code == 404


@pytest.mark.parametrize(("query", "message"), [
    ("period=2026Q5", "“2026Q5” is not a period"),
    ("from=2026-09&to=2026-03", "The period ends in 2026-03, before it starts in 2026-09."),
    ("department=9999", "There is no department “9999”."),
    ("from=13-2026", "“13-2026” is not a month"),
    ("severity=%3Cscript%3E", "“&lt;script&gt;” is not a severity."),
])
def test_bad_filters_answer_422_with_the_reason(partner, data, query, message):
    for path in ("/analytics", "/analytics/export.csv", "/analytics/export.xlsx"):
        response = partner.get(f"{path}?{query}")
        assert response.status_code == 422, path
        assert message in response.text, path
    page = partner.get(f"/analytics?{query}", headers=HX)
    assert page.status_code == 422 and 'role="alert"' in page.text
    chart = partner.get(f"/analytics/charts/month.svg?{query}")
    assert chart.status_code == 422 and chart.mimetype == "text/plain"
    bad_quarter = partner.get("/analytics/quarterly.pdf?quarter=2026-Q9")
    assert bad_quarter.status_code == 422 and "is not a quarter" in bad_quarter.text


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_only_partners(client, auth, role):
    auth.login_as(role)
    for route in ROUTES:
        assert client.get(route).status_code == 403, route


def test_signed_out_is_sent_to_sign_in(client):
    for route in ROUTES:
        assert client.get(route).status_code in (302, 303), route


def test_csv_rows_with_bom_and_localized_headers(partner, data):
    response = partner.get("/analytics/export.csv?period=2026Q3")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=complaints_2026-07_2026-09.csv")
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Reference", "Month received", "Received on"]
    assert len(rows) == 25
    c04 = next(r for r in rows if r[0] == "TS-2026-00004")
    assert c04[1:4] == ["2026-07", "2026-07-06", "Phone"]
    assert c04[7] == "Quality of work, Missed deadline"
    assert c04[8:10] == ["2026-07-09", "On time"]
    assert c04[14:] == ["3", "25", "50", "3"]
    c07 = next(r for r in rows if r[0] == "TS-2026-00007")  # received 07:30 Beijing time
    assert c07[2] == "2026-07-13" and c07[14:17] == ["5", "29", ""]
    partner.language = "zh-CN"
    chinese = partner.get("/analytics/export.csv?period=2026Q3").data.decode("utf-8")
    header = next(csv.reader(io.StringIO(chinese.lstrip("\ufeff"))))
    assert header[0] != "Reference" and len(header) == 18


def test_xlsx_rows(partner, data):
    response = partner.get("/analytics/export.xlsx?period=2026Q3&severity=critical")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith("_critical.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Reference" and len(rows) == 3
    assert [r[0] for r in rows[1:]] == ["TS-2026-00010", "TS-2026-00024"]
    assert rows[1][14:17] == (1, 28, None)
    assert rows[2][8].date().isoformat() == "2026-10-08"  # a date cell, not text


def test_quarterly_pdf_has_figures_both_languages_and_vector_charts(partner, data, tmp_path):
    response = partner.get("/analytics/quarterly.pdf?quarter=2026Q3")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / "q.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "主要指标" in text and "Key figures" in text
    assert "2026Q3" in text and "2026Q2" in text
    assert re.search(r"Complaints received\s+24\s+4", text) or (
        re.search(r"24\s+4", text) and "Complaints received" in text)
    assert "88%" in text and "CNY 93,000.00" in text
    assert "收费说明培训 Fee briefing training" in text  # the improvement action
    assert "未及时告知开庭时间的投诉" in text  # the bulletin published in Q3
    # The charts' own labels are text in the PDF (vector graphics, not pictures) ...
    assert "2026-07" in text and "2026-09" in text
    assert "沟通" in text
    # ... and the PDF holds no raster image at all.
    assert all(not page.images for page in PdfReader(str(path)).pages)


def test_flask_reports_quarterly_writes_the_firms_report(app, data, runner, tmp_path):
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["reports", "quarterly", "2026Q2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 complaints" in result.output  # the whole firm: C29 too
    assert out.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(args=["reports", "quarterly", "Q3"])
    assert bad.exit_code == 2 and "is not a quarter" in bad.output


@contextmanager
def _statements(app):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_page_issues_as_many_queries_at_300_complaints_as_at_30(app, partner, data):
    from portal.demo_complaints import seed_complaints

    app.extensions["redress_page_cache"] = None  # measure the work, not the page cache
    url = "/analytics?from=2016-01&to=2026-12"
    partner.get(url)  # warm up: the working-day table is filled once
    with _statements(app) as small:
        assert partner.get(url).status_code == 200
    with app.app_context():
        seed_complaints(270)
    partner.get(url)
    with _statements(app) as large:
        response = partner.get(url)
    assert response.status_code == 200
    assert len(small) == len(large)
    counted = re.search(r"([\d,]+) complaints received", response.text)
    assert counted and int(counted[1].replace(",", "")) > 150  # the larger set was counted
