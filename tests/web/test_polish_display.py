"""Issue 7 §2: the pages show labels, names and excerpts instead of codes, and one date and
size spelling per locale."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from portal.db import db
from portal.formatting import format_day, format_moment, format_size
from portal.models import Complaint
from tests.web.test_public_form import NARRATIVE, valid_form


def _submit(client, app, **changes) -> str:
    assert client.post("/complaint", data=valid_form(**changes)).status_code == 303
    with app.app_context():
        return db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first().label


def _panel(html: str) -> str:
    return html[html.index('class="card submitted"'):].split("</details>", 1)[0]


def test_the_online_submission_panel_shows_labels_not_codes(client, auth, app):
    key = _submit(client, app, language="en", remedies=["full_refund", "apology"])
    auth.login_as("receptionist")
    client.post("/language", data={"locale": "en"})
    panel = _panel(client.get(f"/complaints/{key}").text)
    dds = re.findall(r"<dd[^>]*>(.*?)</dd>", panel, re.S)
    assert "English" in dds and "Yes" in dds
    assert "Full fee refund and Apology" in dds
    assert not {"en", "y", "full_refund", "apology"} & {d.strip() for d in dds}
    assert "full_refund" not in panel


def test_the_to_verify_card_names_the_client_and_the_complaint(client, auth, app):
    key = _submit(client, app)
    auth.login_as("receptionist")
    home = client.get("/").text
    card = home[home.index('id="verify-h"'):].split("</section>", 1)[0]
    item = card[card.index(f">{key}<"):].split("</li>", 1)[0]
    assert "陈小红" in item
    assert NARRATIVE[:20] in item


def test_one_medium_date_per_locale(app):
    moment = datetime(2026, 12, 1, 5, 26, tzinfo=UTC)  # 13:26 in Beijing
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_day(date(2026, 12, 1)) == "1 Dec 2026"
        assert format_day(date(2026, 12, 1), "short") == "1 Dec 2026"
        assert format_moment(moment, "short") == "1 Dec 2026, 13:26"
        assert format_day(date(2026, 10, 10), "full") == "Saturday, 10 October 2026"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert format_day(date(2026, 12, 1)) == "2026年12月1日"
        assert format_moment(moment) == "2026年12月1日 13:26"


def test_sizes_through_babel_per_locale(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert format_size(608) == "608字节"
        assert format_size(1_258_291) == "1.2 MB"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_size(608) == "608 bytes"
        assert format_size(12_800) == "12.5 kB"
        assert format_size(2 * 1024 ** 2) == "2 MB"


def test_the_list_shows_english_dates_in_day_month_year_order(client, auth):
    auth.login_as("receptionist")
    client.post("/language", data={"locale": "en"})
    client.post("/complaints", data={"new-channel": "phone",
                                     "new-received_at": "2026-12-01T13:26"})
    html = client.get("/complaints").text
    assert "1 Dec 2026, 13:26" in html and "12/1/26" not in html
