"""Overdue progress reports and missing expectations on the home page: the partners'
dashboard (the whole firm, by department and by responsible lawyer, the first overdue matters
linked to their pages) and a lawyer's own matters; a bounded number of statements whatever
the number of matters.

The demo's matters are closed first, so only the matters made here count:
  A  王磊 (Dispute Resolution)  due 5 days ago    2 expectations missing
  B  王磊 (Dispute Resolution)  due in 10 days    none missing
  C  李娜 (Family)              due 20 days ago   none missing
  D  李娜 (Family)              closed: counts nowhere
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from portal import clock
from portal.db import db, write_transaction
from portal.models import Matter, User
from portal.services.accounts import hash_password
from portal.services.prevention import dashboard
from tests.conftest import DEMO_PASSWORD
from tests.web.test_query_counts import _counting as _statements


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def _matter(reference: str, lawyer: User, due_in: int, gaps: int, status: str = "open"):
    today = clock.today()
    return Matter(reference=reference, title=f"事项 {reference}", responsible_lawyer=lawyer,
                  department_id=lawyer.department_id, opened_on=today - timedelta(days=60),
                  status=status, report_due_on=today + timedelta(days=due_in),
                  expectation_gaps=gaps)


def _board(page: str) -> str:
    start = page.index('id="prevention"')
    return page[start:page.index("</section>", start)]


@pytest.fixture
def matters(app) -> None:
    with app.app_context(), write_transaction():
        db.session.execute(update(Matter).values(status="closed", report_due_on=None))
        wang, li = person("王磊"), person("李娜")
        db.session.add_all([_matter("M-2026-8001", wang, -5, 2),
                            _matter("M-2026-8002", wang, 10, 0),
                            _matter("M-2026-8003", li, -20, 0),
                            _matter("M-2026-8004", li, -30, 3, status="closed")])


def test_the_partners_dashboard_counts_by_department_and_by_lawyer(client, auth, matters):
    auth.login("partner2")
    section = _board(client.get("/").text)
    assert "the whole firm" in section
    assert "2 open matters have an overdue progress report." in section
    assert "1 open matter has engagement expectations missing." in section
    # The first overdue matters, the oldest first, linked to their pages.
    assert section.index("M-2026-8003") < section.index("M-2026-8001")
    assert 'href="/matters/M-2026-8003"' in section and "20 days overdue" in section
    assert "M-2026-8002" not in section and "M-2026-8004" not in section
    departments = section[section.index('id="prevention-departments"'):]
    assert "Dispute Resolution</th><td class=\"number\">1</td><td class=\"number\">1</td>" \
        in departments
    assert "Family and Private Clients</th><td class=\"number\">1</td><td class=\"number\">0" \
        in departments
    lawyers = section[section.index('id="prevention-lawyers"'):]
    assert lawyers.index("王磊") < lawyers.index("李娜")  # the most overdue, then gaps


def test_the_board_as_data(app, matters):
    with app.app_context():
        board = dashboard.for_user(person("partner2"), "en")
    assert (board.firm, board.overdue, board.gaps) == (True, 2, 1)
    assert [(t.label, t.overdue, t.gaps) for t in board.by_lawyer] == [("王磊", 1, 1),
                                                                      ("李娜", 1, 0)]
    assert [(m.reference, m.days) for m in board.first] == [("M-2026-8003", 20),
                                                            ("M-2026-8001", 5)]


def test_a_lawyer_sees_only_the_matters_they_are_responsible_for(app, client, auth, matters):
    with app.app_context(), write_transaction():
        wang = person("王磊")  # given a login, with no complaint role at all
        wang.username, wang.password_hash = "wanglei", hash_password(DEMO_PASSWORD)
    auth.login("wanglei")
    section = _board(client.get("/").text)
    assert "your matters" in section
    assert "1 open matter has an overdue progress report." in section
    assert "1 open matter has engagement expectations missing." in section
    assert "M-2026-8001" in section and "M-2026-8003" not in section
    assert 'id="prevention-departments"' not in section


def test_someone_without_matters_sees_no_section(client, auth, matters):
    auth.login("reception")
    assert 'id="prevention"' not in client.get("/").text


def _grow_to(app, count: int) -> None:
    """Open matters with random lawyers, departments, due days and gaps (bulk inserts: no
    complaint reads them, so no analytics row changes)."""
    with app.app_context(), write_transaction():
        have = db.session.scalar(select(func.count(Matter.id)))
        lawyers = [(u.id, u.department_id) for u in db.session.scalars(select(User))]
        rng, today = random.Random(count), clock.today()
        rows = []
        for n in range(have, count):
            lawyer, department = rng.choice(lawyers)
            rows.append({"reference": f"M-Q-{n:05d}", "title": f"事项 {n}",
                         "responsible_lawyer_id": lawyer, "department_id": department,
                         "status": "open", "opened_on": today - timedelta(days=90),
                         "report_due_on": today + timedelta(days=rng.randint(-60, 30)),
                         "expectation_gaps": rng.choice((0, 0, 1, 2)), "version": 1})
        db.session.execute(insert(Matter), rows)


def test_the_partners_home_page_issues_as_many_statements_at_400_matters_as_at_20(
        app, client, auth):
    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache
    auth.login("partner2")
    _grow_to(app, 20)
    client.get("/")
    with _statements(app) as small:
        assert client.get("/").status_code == 200
    _grow_to(app, 400)
    client.get("/")
    with _statements(app) as large:
        page = client.get("/").text
    assert len(large) == len(small)
    assert page.count('class="overdue"><a href="/matters/') >= dashboard.SHOWN
    prevention = [s for s in large if "report_due_on" in s]
    assert len(prevention) == 2  # the grouped counts and the first overdue matters
