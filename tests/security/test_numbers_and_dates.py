"""Numbers and dates a database or Python's datetime cannot hold give 404 or 422, never 500.

PostgreSQL's BIGINT (and SQLite's INTEGER) stop at 2**63 - 1: a larger id or page in a URL or
form used to end in an OverflowError inside the driver. Days at year 1 or 9999 overflowed when
the audit filter turned them into moments in UTC.
"""

from __future__ import annotations

import pytest

from tests.conftest import field_errors
from tests.web.test_intake_support import get, new_draft, save

HUGE = "9" * 30
INT64 = str(2**63)  # one more than a BIGINT holds


@pytest.mark.parametrize("url", [f"/complaints?page={HUGE}", f"/complaints?page={INT64}",
                                 "/complaints?page=1000001", f"/admin/audit?page={HUGE}",
                                 f"/admin/audit?page={INT64}&action=login.succeeded"])
def test_a_page_number_beyond_any_page_is_404(partner, url):
    assert partner.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/complaints?page=abc", "/complaints?page=-3",
                                 "/admin/audit?page=", "/admin/audit?page=999"])
def test_other_page_numbers_still_show_a_page(partner, url):
    assert partner.get(url).status_code == 200


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31",
                                   "date_from=0001-01-01&date_to=9999-12-31",
                                   "date_from=1899-12-31"])
def test_audit_dates_out_of_range_are_a_form_error(partner, query):
    response = partner.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    assert "Enter a date between 1900-01-01 and 9998-12-31." in field_errors(response.text)


def test_audit_dates_at_the_edges_of_the_range_work(partner):
    response = partner.get("/admin/audit?date_from=1900-01-01&date_to=9998-12-31")
    assert response.status_code == 200


@pytest.mark.parametrize("value", [HUGE, INT64, "-" + HUGE, "0"])
@pytest.mark.parametrize("section, field", [("complainant", "client_id"),
                                            ("matter", "matter_id"),
                                            ("respondents", "add")])
def test_an_id_no_row_can_have_is_not_on_file(reception, app, section, field, value):
    key = new_draft(reception)
    response = save(reception, app, key, section, {field: value})
    assert response.status_code == 422
    assert "no longer on file" in response.text
    complaint = get(app, key)
    assert complaint.complainant is None and complaint.matter is None
    assert complaint.respondents == []


def test_removing_an_id_no_row_can_have_changes_nothing(reception, app):
    key = new_draft(reception)
    response = save(reception, app, key, "respondents", {"remove": HUGE})
    assert response.status_code == 200
