"""Pages issue a bounded number of SQL statements, whatever the number of complaints.

Each page is measured with 10 and then with 200 complaints of each kind (registered, drafts,
audit events): the counts must be equal, so no page loads one row per complaint (N+1), and no
page filters rows in Python after loading more than it shows.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from portal import clock
from portal.db import db, write_transaction
from portal.demo_complaints import seed_complaints
from portal.models import Client, Complaint, Deadline, Matter, State, User
from portal.services import audit
from portal.services.analytics import fact_table
from tests.ballot_support import awaiting, open_ballot

# No page issues more statements than this, whatever the data (bench_scale holds it too).
STATEMENT_CEILING = 70

PAGES = [
    "/",
    "/complaints",
    "/complaints?state=all",
    "/complaints?state=registered",
    "/complaints?state=all&q=%E6%9D%8E",  # 李: a Chinese search
    "/complaints?state=all&q=TS-20",
    "/complaints?clock=overdue",  # the deadline views (the firm's, for a partner)
    "/complaints?clock=due_soon&sort=due",
    "/admin/audit",
    "/admin/audit?object_type=complaint",
    "/analytics",
    "/analytics?period=2024",
]


def _add_drafts(count: int) -> None:
    """Drafts as the intake screens leave them: a complainant, respondents, a matter."""
    rng = random.Random(count)
    by_username = {u.username: u for u in db.session.scalars(select(User)) if u.username}
    lawyers = list(db.session.scalars(select(User).where(User.username.is_(None))))
    matters = list(db.session.scalars(select(Matter)))
    with write_transaction():
        for n in range(count):
            complaint = Complaint(
                state=State.DRAFT, channel="phone", created_by=by_username["reception"],
                complainant=Client(name=f"李{n}", phone="13800000000", language="zh"),
                respondents=rng.sample(lawyers + [by_username["partner2"]], 2),
                matter=rng.choice(matters), needs_verification=n % 4 == 0,
            )
            db.session.add(complaint)
            db.session.flush()
            audit.record("complaint.created", actor=by_username["reception"], obj=complaint,
                         details={"channel": "phone"})


def _grow_to(app, count: int) -> None:
    with app.app_context():
        have = db.session.scalar(select(db.func.count(Complaint.id))) or 0
        missing = count - have // 2
        seed_complaints(missing)
        _add_drafts(missing)
        _reopen_clocks()


def _reopen_clocks() -> None:
    """A third of the seeded complaints' first responses overdue, a third due today."""
    today = clock.today()
    with write_transaction():
        for remainder, due in ((0, today - timedelta(days=1)), (1, today)):
            db.session.execute(update(Deadline).where(Deadline.id % 3 == remainder)
                               .values(due=due, stopped_at=None))
        fact_table.refresh_all(db.session.connection())  # a bulk UPDATE skips its hook


@contextmanager
def _counting(app):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _measure(app, client, urls: list[str]) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url)  # warm up: first-request work (catalogues, caches) is not the page's
        with _counting(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[url] = len(statements)
    return counts


def _record_url(app, username: str) -> str:
    """A registered complaint the viewer may see (the same one at every size)."""
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == username))
        reference = db.session.scalar(
            select(Complaint.reference).where(Complaint.reference.is_not(None),
                                              Complaint.visible_to(viewer))
            .order_by(Complaint.id).limit(1))
    return f"/complaints/{reference}"


def _open_ballot(app) -> str:
    """A ballot open for votes on a complaint awaiting the committee (before the growth, so the
    same one is measured at every size)."""
    ballot_id = open_ballot(app, awaiting(app))
    return f"/ballots/{ballot_id}"


@pytest.mark.parametrize("username", ["partner", "reception", "committee1"])
def test_pages_issue_the_same_number_of_queries_at_10_and_at_200_complaints(
        app, client, auth, username):
    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache
    auth.login(username)
    ballot_url = _open_ballot(app)
    _grow_to(app, 10)
    urls = {"partner": [*PAGES, _record_url(app, username)],
            "reception": [*PAGES[:6], _record_url(app, username)],
            "committee1": [*PAGES[:2], ballot_url]}[username]
    small = _measure(app, client, urls)
    _grow_to(app, 200)
    large = _measure(app, client, urls)
    assert large == small
    # A ceiling, not a target: the case file reads one phase's rows per area (and, for a
    # partner, the improvement actions linked to the complaint), then writes its audit row.
    # The seeded complaints reach every phase (a closed one went through a ballot, notices,
    # an answer and a call-back), so the record page shows all of its areas: 67 statements,
    # some of them repeated between areas (the routing rules, the department heads, the
    # notices), which is where to start when lowering it.
    assert max(large.values()) <= STATEMENT_CEILING, large
