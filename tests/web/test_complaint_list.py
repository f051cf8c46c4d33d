"""Issue 7 §2 /complaints: sorting by whitelisted columns, the respondents column, searching
by a respondent's name, and the due-soon and overdue badges."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, Deadline, State, User


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.name == name))


def _registered(app, reference: str, client: str, due: date, received: datetime,
                respondents: tuple[str, ...] = ()) -> None:
    with app.app_context(), write_transaction():
        db.session.add(Complaint(
            state=State.REGISTERED, reference=reference, channel="phone", received_at=received,
            complainant=Client(name=client),
            deadlines=[Deadline(kind="first_response", due=due)],
            registered_at=received, respondents=[_user(n) for n in respondents]))


@pytest.fixture
def three(app, clock):
    """Three registered complaints whose orders by reference, client, receipt and due date
    all differ. The clock is Wednesday 2 December 2026, 10:00 in Beijing."""
    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    _registered(app, "TS-2026-9002", "Bravo Client", date(2026, 12, 3),
                datetime(2026, 11, 20, tzinfo=UTC), ("王磊",))
    _registered(app, "TS-2026-9001", "Charlie Client", date(2026, 12, 10),
                datetime(2026, 11, 25, tzinfo=UTC))
    _registered(app, "TS-2026-9003", "Alpha Client", date(2026, 12, 1),
                datetime(2026, 11, 10, tzinfo=UTC))
    return clock


def _order(html: str) -> list[str]:
    return re.findall(r'class="mono ref">(TS-2026-900\d)<', html)


@pytest.mark.parametrize(("sort", "asc"), [
    ("reference", ["TS-2026-9001", "TS-2026-9002", "TS-2026-9003"]),
    ("received", ["TS-2026-9003", "TS-2026-9002", "TS-2026-9001"]),
    ("complainant", ["TS-2026-9003", "TS-2026-9002", "TS-2026-9001"]),
    ("due", ["TS-2026-9003", "TS-2026-9002", "TS-2026-9001"]),
])
def test_the_list_sorts_by_each_column_both_ways(client, auth, three, sort, asc):
    auth.login_as("receptionist")
    page = client.get(f"/complaints?state=registered&sort={sort}")
    assert _order(page.text) == asc
    assert re.search(r'<th scope="col" aria-sort="ascending">\s*<a[^>]*sort=' + sort, page.text)
    assert page.text.count("aria-sort=") == 1
    assert _order(client.get(f"/complaints?state=registered&sort={sort}&dir=desc").text) \
        == asc[::-1]


def test_sort_links_keep_the_filter_and_the_search_and_flip_the_direction(client, auth, three):
    auth.login_as("receptionist")
    html = client.get("/complaints?state=all&q=TS-2026&sort=due").text
    head = html[html.index("<thead>"):html.index("</thead>")]
    links = dict(re.findall(r'href="/complaints\?([^"]*sort=(\w+)[^"]*)"', head)[i][::-1]
                 for i in range(4))
    assert set(links) == {"reference", "complainant", "received", "due"}
    for query in links.values():
        assert "state=all" in query and "q=TS-2026" in query
    assert "dir=desc" in links["due"] and "dir=asc" in links["reference"]
    # The filter form keeps the sort when the search changes.
    assert re.search(r'<input type="hidden" name="sort" value="due">', html)


def test_unknown_sort_values_are_ignored(client, auth, three):
    auth.login_as("receptionist")
    for query in ("sort=id;drop", "sort=__class__", "sort=due&dir=sideways", "dir=desc"):
        page = client.get(f"/complaints?state=registered&{query}")
        assert page.status_code == 200
    # The registered default (due date first) stands when the sort is not one of the columns.
    assert _order(client.get("/complaints?state=registered&sort=x&dir=desc").text) \
        == ["TS-2026-9003", "TS-2026-9002", "TS-2026-9001"]


def test_the_respondents_are_listed_and_found(client, auth, three):
    auth.login_as("receptionist")
    html = client.get("/complaints?state=registered").text
    row = html[html.index(">TS-2026-9002<"):].split("</tr>", 1)[0]
    assert "王磊" in row
    found = client.get("/complaints?state=all&q=王磊").text
    assert "TS-2026-9002" in found
    assert "TS-2026-9001" not in found and "TS-2026-9003" not in found


def test_a_respondent_search_escapes_wildcards_and_keeps_visibility(client, auth, app, three):
    auth.login_as("receptionist")
    assert "TS-2026-9002" not in client.get("/complaints?state=all&q=王%").text
    assert "TS-2026-9002" not in client.get("/complaints?state=all&q=_磊").text
    _registered(app, "TS-2026-9004", "丁客户", date(2026, 12, 10),
                datetime(2026, 11, 26, tzinfo=UTC), ("刘慧敏", "王磊"))
    assert "TS-2026-9004" in client.get("/complaints?state=all&q=刘慧敏").text
    auth.logout()
    auth.login_as("partner")  # 刘慧敏 is a respondent of 9004: kept out of it
    assert "TS-2026-9002" in client.get("/complaints?state=all&q=王磊").text
    assert "TS-2026-9004" not in client.get("/complaints?state=all&q=刘慧敏").text
    assert "TS-2026-9004" not in client.get("/complaints?state=all&q=王磊").text


def test_due_dates_carry_an_overdue_or_due_soon_badge_in_words(client, auth, three):
    auth.login_as("receptionist")
    client.post("/language", data={"locale": "en"})
    html = client.get("/complaints?state=registered").text

    def cell(reference: str) -> str:
        return html[html.index(f">{reference}<"):].split("</tr>", 1)[0]

    assert "Overdue" in cell("TS-2026-9003")      # due 1 Dec, today 2 Dec
    assert "Due soon" in cell("TS-2026-9002")     # due 3 Dec, the next working day
    assert "Due soon" not in cell("TS-2026-9001") and "Overdue" not in cell("TS-2026-9001")


def test_the_badges_follow_the_clock_and_the_working_days(client, auth, app, three):
    with app.app_context(), write_transaction():
        db.session.scalar(select(Complaint).where(Complaint.reference == "TS-2026-9001")) \
            .deadline("first_response").due = date(2026, 12, 7)

    def row() -> str:
        auth.logout()  # moving the clock far enough ends the session: sign in again
        auth.login_as("receptionist")
        client.post("/language", data={"locale": "en"})
        html = client.get("/complaints?state=registered").text
        return html[html.index(">TS-2026-9001<"):].split("</tr>", 1)[0]

    assert "Due soon" not in row() and "Overdue" not in row()
    # Friday 4 December: the next working day is Monday 7 December, not Saturday.
    three.set(datetime(2026, 12, 4, 2, 0, tzinfo=UTC))
    assert "Due soon" in row()
    three.advance(timedelta(days=4))  # Tuesday 8 December
    assert "Overdue" in row() and "Due soon" not in row()


def test_the_pager_counts_a_few_pages_ahead_and_says_when_there_are_more(
        client, auth, app, clock, monkeypatch):
    """The list counts no further than PAGES_AHEAD pages past the one shown: with two rows a
    page and one page ahead, seven complaints are "more than 2" pages from page 1, and exactly
    4 from page 3, where the count reaches the end."""
    from portal.web.intake import list as complaint_list

    monkeypatch.setattr(complaint_list, "PAGE_SIZE", 2)
    monkeypatch.setattr(complaint_list, "PAGES_AHEAD", 1)
    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    for n in range(7):
        _registered(app, f"TS-2026-95{n:02d}", f"Client {n}", date(2026, 12, 10),
                    datetime(2026, 11, 1 + n, tzinfo=UTC))
    auth.login("partner")
    first = client.get("/complaints?state=registered", headers={"Accept-Language": "en"})
    assert "Page 1 of more than 2" in first.text and "page=2" in first.text
    third = client.get("/complaints?state=registered&page=3",
                       headers={"Accept-Language": "en"})
    assert "Page 3 of 4" in third.text and "more than" not in third.text
    last = client.get("/complaints?state=registered&page=4", headers={"Accept-Language": "en"})
    assert "Page 4 of 4" in last.text and "page=5" not in last.text
