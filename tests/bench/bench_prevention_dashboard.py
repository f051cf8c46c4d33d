"""Benchmark: the partners' dashboard (the partner's home page) with 20,000 matters.

    .venv/bin/python -m tests.bench.bench_prevention_dashboard [--matters 20000] [--repeat 15]

A throwaway instance (SQLite, migrated with `flask db upgrade`, the demo firm from
`flask demo seed`), then N matters written with bulk inserts: four departments, forty
lawyers, six matter types; 85% open; each with its expectation entries (a quarter miss one or
two) and its progress reports, and the stored `report_due_on` and `expectation_gaps` set as
services/prevention/core.py computes them (the last report's day, or the opening day, plus the
type's interval; the expectations with no entry). About a third of the open matters are
overdue.

Through the test client signed in as the demo partner, with the page cache off (every request
renders): the median of --repeat requests of `/`, and the number of SQL statements one
request issues. Prints a markdown table; exits 1 when the median is over TARGET_MS.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bench.bench_concurrency import Bench, create_schema, make_instance

TARGET_MS = 300
USERNAME = "partner"
LAWYERS = 40
BATCH = 5000


def _seed(count: int) -> None:
    """N matters with their expectations and reports (call in an app context)."""
    from sqlalchemy import func, insert, select

    from portal import clock
    from portal.db import db, write_transaction
    from portal.models import Matter, User
    from portal.models.prevention import (
        Expectation,
        ExpectationEntry,
        MatterType,
        ProgressReport,
    )
    from portal.models.user import Department

    rng = random.Random(20_000)
    today = clock.today()
    with write_transaction():
        departments = list(db.session.scalars(select(Department.id)))
        db.session.add_all([User(name=f"律师{n:02d}", email=f"lawyer{n:02d}@bench.example",
                                 department_id=departments[n % len(departments)])
                            for n in range(LAWYERS)])
    with write_transaction():
        lawyers = db.session.execute(select(User.id, User.department_id)
                                     .where(User.email.like("%@bench.example"))).all()
        partners = list(db.session.scalars(select(User.id).where(User.username.is_not(None))))
        types = dict(db.session.execute(select(MatterType.code,
                                               MatterType.report_interval_days)).all())
        first = (db.session.scalar(select(func.max(Matter.id))) or 0) + 1
        matters, entries, reports = [], [], []
        for n in range(count):
            matter_id = first + n
            lawyer, department = rng.choice(lawyers)
            code = rng.choice(list(types))
            opened = today - timedelta(days=rng.randint(20, 900))
            is_open = rng.random() < 0.85
            interval = types[code]
            # Reports every interval or so, the last one long ago on a third of them.
            day, last = opened, None
            silent = rng.random() < 0.3
            stop = today - timedelta(days=interval * (2 if silent else 0))
            while day + timedelta(days=interval) < stop:
                day += timedelta(days=rng.randint(interval // 2, interval))
                last = day
                reports.append({"matter_id": matter_id, "reported_on": day, "channel": "phone",
                                "summary": "进展", "recorded_by_id": lawyer,
                                "recorded_at": datetime.combine(day, datetime.min.time(),
                                                                tzinfo=UTC)})
            missing = set(rng.sample([e.value for e in Expectation], rng.choice((1, 2)))) \
                if rng.random() < 0.25 else set()
            recorded = datetime.combine(opened, datetime.min.time(), tzinfo=UTC)
            entries += [{"matter_id": matter_id, "item": e.value, "text": "约定",
                         "recorded_at": recorded, "recorded_by_id": lawyer}
                        for e in Expectation if e.value not in missing]
            due = (last or opened) + timedelta(days=interval) if is_open else None
            matters.append({
                "id": matter_id, "reference": f"M-B-{n:06d}", "title": f"基准事项 {n}",
                "department_id": department, "responsible_lawyer_id": lawyer,
                "partner_id": rng.choice(partners), "opened_on": opened,
                "matter_type_code": code, "status": "open" if is_open else "closed",
                "closed_on": None if is_open else today - timedelta(days=rng.randint(1, 300)),
                "report_due_on": due, "report_reminded_for": None,
                "expectation_gaps": len(missing), "jurisdiction": "PRC", "fees_currency": "CNY",
                "version": 1})
        for table, rows in ((Matter, matters), (ExpectationEntry, entries),
                            (ProgressReport, reports)):
            for start in range(0, len(rows), BATCH):
                db.session.execute(insert(table), rows[start:start + BATCH])
    print(f"seeded {count:,} matters, {len(entries):,} expectation entries, "
          f"{len(reports):,} reports", file=sys.stderr)


def measure(count: int, repeat: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory(prefix="redress-bench-prevention-") as folder:
        folder_path = Path(folder)
        bench = Bench(folder_path, make_instance(folder_path), 0)
        create_schema(bench, "migrate")
        bench.flask("demo", "seed")
        os.environ["REDRESS_INSTANCE"] = bench.env["REDRESS_INSTANCE"]
        os.environ.pop("DATABASE_URL", None)
        from sqlalchemy import event

        from portal import create_app
        from portal.db import db
        from tests.conftest import AuthActions, Client

        app = create_app({"TESTING": True})
        app.test_client_class = Client
        with app.app_context():
            _seed(count)
            db.session.remove()
        client = app.test_client()
        AuthActions(client).login(USERNAME, "redress-demo")
        app.extensions["redress_page_cache"] = None  # every request renders
        client.get("/")  # warm up
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get("/")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        assert 'id="prevention-departments"' in response.text
        statements: list[str] = []
        with app.app_context():
            engine = db.engine

        def count_statement(*_args) -> None:
            statements.append("")

        event.listen(engine, "before_cursor_execute", count_statement)
        client.get("/")
        event.remove(engine, "before_cursor_execute", count_statement)
        with app.app_context():
            from portal.models import User
            from portal.services.prevention import dashboard

            partner = db.session.query(User).filter_by(username=USERNAME).one()
            started = time.perf_counter()
            board = dashboard.for_user(partner)
            board_ms = (time.perf_counter() - started) * 1000
            db.session.remove()
            db.engine.dispose()
        return [("partner's home page, median ms", statistics.median(times)),
                ("partner's home page, SQL statements", float(len(statements))),
                ("the dashboard's two statements, ms", board_ms),
                ("overdue matters counted", float(board.overdue)),
                ("matters with expectations missing", float(board.gaps))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matters", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    results = measure(args.matters, args.repeat)
    print("| matters | measure | value |")
    print("|---:|---|---:|")
    for label, value in results:
        print(f"| {args.matters:,} | {label} | {value:,.0f} |")
    median = results[0][1]
    return 1 if median > TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
