"""The partners' working-day calendar page: overrides, validation, confirming a year."""

from datetime import date

from sqlalchemy import select

from portal.db import db
from portal.models import CalendarOverride, ConfirmedYear

HX = {"HX-Request": "true"}


def test_only_partners_see_the_calendar(client, auth):
    assert client.get("/calendar").status_code in (302, 303, 401)
    auth.login_as("receptionist")
    assert client.get("/calendar").status_code == 403
    assert client.post("/calendar/overrides", data={"year": "2027", "day": "2027-10-09",
                                                    "kind": "workday"}).status_code == 403


def test_official_year_has_no_warning(client, auth):
    auth.login_as("partner")
    page = client.get("/calendar?year=2026")
    assert page.status_code == 200
    assert "2026-10-10" in page.text  # the make-up Saturday is listed
    assert "calendar.confirm_year" not in page.text
    assert 'action="/calendar/confirm"' not in page.text


def test_provisional_year_warns_and_can_be_confirmed(client, auth, app):
    auth.login_as("partner")
    page = client.get("/calendar?year=2027")
    assert "alert-warn" in page.text and 'action="/calendar/confirm"' in page.text

    response = client.post("/calendar/confirm", data={"year": "2027"}, headers=HX)
    assert response.status_code == 200
    assert 'id="year-status"' in response.text and "alert-warn" not in response.text
    with app.app_context():
        assert db.session.get(ConfirmedYear, 2027) is not None
    assert "alert-warn" not in client.get("/calendar?year=2027").text


def test_add_and_remove_an_override_with_htmx(client, auth, app):
    auth.login_as("partner")
    response = client.post("/calendar/overrides", headers=HX, data={
        "year": "2027", "day": "2027-10-09", "kind": "workday", "note": "Make-up Saturday"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<section id=\"overrides\"")
    assert "Make-up Saturday" in response.text
    with app.app_context():
        row = db.session.get(CalendarOverride, date(2027, 10, 9))
        assert row.is_workday and row.note == "Make-up Saturday"

    response = client.post("/calendar/overrides/2027-10-09/remove", headers=HX)
    assert response.status_code == 200 and "Make-up Saturday" not in response.text
    with app.app_context():
        assert db.session.get(CalendarOverride, date(2027, 10, 9)) is None
    assert client.post("/calendar/overrides/2027-10-09/remove", headers=HX).status_code == 404
    assert client.post("/calendar/overrides/not-a-date/remove", headers=HX).status_code == 404


def test_bad_dates_get_inline_errors_and_keep_the_input(client, auth, app):
    auth.login_as("partner")
    for day in ("2027-02-30", "tomorrow", ""):
        response = client.post("/calendar/overrides", headers=HX, data={
            "year": "2027", "day": day, "kind": "day_off", "note": "Typed note"})
        assert response.status_code == 422, day
        assert 'class="error"' in response.text and 'aria-invalid="true"' in response.text
        assert 'value="Typed note"' in response.text
        if day:
            assert f"“{day}”" in response.text  # the rejected text is named, not lost
    # a date in another year than the page's
    response = client.post("/calendar/overrides", headers=HX, data={
        "year": "2027", "day": "2026-10-10", "kind": "day_off"})
    assert response.status_code == 422 and "2027" in response.text
    # no kind chosen
    response = client.post("/calendar/overrides", headers=HX, data={
        "year": "2027", "day": "2027-10-09"})
    assert response.status_code == 422 and 'id="kind-error"' in response.text
    with app.app_context():
        assert db.session.scalars(select(CalendarOverride)).all() == []


def test_without_javascript_the_page_comes_back(client, auth):
    auth.login_as("partner")
    response = client.post("/calendar/overrides", data={
        "year": "2027", "day": "2027-10-09", "kind": "workday"})
    assert response.status_code == 303 and response.headers["Location"].endswith("year=2027")
    response = client.post("/calendar/overrides", data={"year": "2027", "day": "x",
                                                        "kind": "workday"})
    assert response.status_code == 422 and "<html" in response.text


def test_bad_year_and_missing_csrf(client, auth, app):
    auth.login_as("partner")
    assert client.get("/calendar?year=abc").status_code == 400
    assert client.get("/calendar?year=99999").status_code == 400
    client.send_csrf = False
    response = client.post("/calendar/overrides", headers=HX, data={
        "year": "2027", "day": "2027-10-09", "kind": "workday"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(CalendarOverride, date(2027, 10, 9)) is None


def test_page_partial_for_htmx_year_navigation(client, auth):
    auth.login_as("partner")
    response = client.get("/calendar?year=2025", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="calendar-year">')
    assert "HX-Request" in response.headers["Vary"]


def test_confirm_needs_an_explicit_year(client, auth, app):
    auth.login_as("partner")
    assert client.post("/calendar/confirm", headers=HX).status_code == 400
    assert client.post("/calendar/confirm", data={"year": "20x7"}, headers=HX).status_code == 400
    with app.app_context():
        assert db.session.scalars(select(ConfirmedYear)).all() == []
