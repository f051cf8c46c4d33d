"""Benchmark: /analytics at 10,000 complaints (and 100,000 with --sizes 10000,100000).

    .venv/bin/python -m tests.bench.bench_analytics [--sizes 10000] [--repeat 5]

For each size: a throwaway instance (SQLite, migrated with `flask db upgrade`), the demo firm
with N registered complaints (`flask demo seed --complaints N`). Those are registered only, so
the bench then gives them, deterministically and with bulk inserts, what the figures read:
severity and categories, an acknowledgement for most (mail sent or a notice posted), a
decision with remedies for half, closing with root causes and a satisfaction score for a
third, and a few improvement actions. Then, through the test client signed in as the demo
partner, it times:

* the first request (it fills the working-day table once: a write),
* /analytics for the last 12 months and for all five years, with the page cache off (the
  figures computed every time; median of --repeat),
* the same with the page cache on (a repeated view), and one chart's SVG,
* the CSV export of five years.

Prints a markdown table; exits 1 when /analytics (five years, cache off) takes over TARGET_MS
at 100,000 complaints or over TARGET_MS / 4 at 10,000.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from portal import clock
from tests.bench.bench_concurrency import Bench, create_schema, make_instance
from tests.bench.loadgen import ROOT

TARGET_MS = 300
USERNAME = "partner"


def enrich(seed: int = 11) -> int:
    """Give the seeded complaints triage, acknowledgements, decisions, closing, root causes
    and satisfaction (bulk Core inserts; deterministic)."""
    from sqlalchemy import insert, select, update

    from portal.db import db, write_transaction
    from portal.models import (
        Callback,
        Complaint,
        ComplaintRootCause,
        Deadline,
        ImprovementAction,
        Notice,
        OutboxMessage,
        RootCause,
        User,
    )
    from portal.models.resolution import DecidedRemedy, Decision

    rng = random.Random(seed)
    partner = db.session.scalar(select(User).where(User.username == USERNAME))
    causes = list(db.session.scalars(select(RootCause.id)))
    rows = db.session.execute(
        select(Complaint.id, Complaint.received_at, Deadline.due)
        .join(Deadline, Deadline.complaint_id == Complaint.id)
        .where(Deadline.kind == "first_response").order_by(Complaint.id)).all()
    now = db.session.scalar(select(Complaint.registered_at).order_by(
        Complaint.registered_at.desc()).limit(1))
    severities = ("minor", "general", "serious", "critical")
    categories = ("communication", "fees", "competence", "delay", "attitude", "conflict")
    kinds = ("explanation", "written_apology", "partial_refund", "full_refund",
             "free_follow_up")
    with write_transaction():
        triage, mails, notices, decisions, remedies = [], [], [], [], []
        closed, root_causes, callbacks = [], [], []
        for complaint_id, received, due in rows:
            triage.append({"cid": complaint_id, "severity": rng.choice(severities),
                           "categories": rng.sample(categories, rng.choice((1, 1, 2)))})
            ack = received + timedelta(days=rng.randint(0, 9))
            if ack < now and rng.random() < 0.85:
                if rng.random() < 0.8:
                    mails.append({"kind": "acknowledgement", "recipient": "c@example.com",
                                  "subject": "ack", "body_text": "ack", "attachments": [],
                                  "complaint_id": complaint_id, "status": "sent",
                                  "attempts": 1, "next_attempt_at": ack, "created_at": ack,
                                  "sent_at": ack})
                else:
                    notices.append({"complaint_id": complaint_id, "kind": "acknowledgement",
                                    "version": 1, "stored_name": f"bench-ack-{complaint_id}",
                                    "sha256": "0" * 64, "size": 1, "created_at": ack,
                                    "delivery": "post", "posted_on": ack.date()})
            decided = received + timedelta(days=rng.randint(15, 60))
            if decided < now and rng.random() < 0.5:
                decisions.append({"complaint_id": complaint_id, "number": 1,
                                  "client_summary": "-", "decided_by_id": partner.id,
                                  "decided_at": decided})
                remedies.append((complaint_id, rng.choice(kinds), decided.date()))
                done = decided + timedelta(days=rng.randint(20, 50))
                if done < now and rng.random() < 0.7:
                    closed.append({"cid": complaint_id, "closed_at": done})
                    root_causes.append({"complaint_id": complaint_id,
                                        "root_cause_id": rng.choice(causes),
                                        "recorded_at": done})
                    callbacks.append({"complaint_id": complaint_id, "due": done.date(),
                                      "status": "satisfied", "created_at": done,
                                      "satisfaction": rng.choice((2, 3, 4, 4, 5, 5)),
                                      "version": 1, "answered_at": done})
        complaint = Complaint.__table__
        from sqlalchemy import bindparam

        db.session.execute(update(complaint).where(complaint.c.id == bindparam("cid"))
                           .values(severity=bindparam("severity"),
                                   categories=bindparam("categories"), state="triaged"),
                           triage, execution_options={"synchronize_session": False})
        for table, values in ((OutboxMessage.__table__, mails), (Notice.__table__, notices),
                              (Decision.__table__, decisions),
                              (ComplaintRootCause.__table__, root_causes),
                              (Callback.__table__, callbacks)):
            if values:
                db.session.execute(insert(table), values)
        ids = dict(db.session.execute(select(Decision.complaint_id, Decision.id)).all())
        db.session.execute(insert(DecidedRemedy.__table__), [
            {"decision_id": ids[cid], "kind": kind, "currency": "CNY", "due": due,
             "amount": rng.randrange(1000, 50000, 500) if "refund" in kind else None}
            for cid, kind, due in remedies])
        if closed:
            db.session.execute(update(complaint).where(complaint.c.id == bindparam("cid"))
                               .values(closed_at=bindparam("closed_at"), state="closed"),
                               closed, execution_options={"synchronize_session": False})
        today = clock.today()
        db.session.add_all(ImprovementAction(
            title=f"Action {n}", kind="training", owner_id=partner.id, created_by_id=partner.id,
            due=today + timedelta(days=rng.randint(-60, 90)),
            status=rng.choice(("planned", "in_progress", "done"))) for n in range(40))
    return len(rows)


def timed(client, url: str, repeat: int) -> tuple[float, int]:
    times = []
    status = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        if response.is_streamed:
            response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return statistics.median(times), status


def measure(size: int, repeat: int) -> list[tuple[str, float, int]]:
    with tempfile.TemporaryDirectory(prefix="redress-bench-analytics-") as folder:
        folder_path = Path(folder)
        bench = Bench(folder_path, make_instance(folder_path), 0)
        create_schema(bench, "migrate")
        print(f"seeding {size:,} complaints ...", file=sys.stderr)
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "demo", "seed", "--complaints",
                        str(size)], cwd=ROOT, env=bench.env, check=True, stdout=sys.stderr)
        os.environ["REDRESS_INSTANCE"] = bench.env["REDRESS_INSTANCE"]
        os.environ.pop("DATABASE_URL", None)
        from portal import create_app
        from portal.db import db
        from tests.conftest import AuthActions, Client

        app = create_app({"TESTING": True})
        app.test_client_class = Client
        with app.app_context():
            enriched = enrich()
            db.session.remove()
        print(f"enriched {enriched:,} complaints", file=sys.stderr)
        client = app.test_client()
        AuthActions(client).login(USERNAME, "redress-demo")
        today = clock.today()
        five_years = f"/analytics?from={today.year - 5}-{today.month:02d}&to={today:%Y-%m}"
        results = []
        first, status = timed(client, five_years, 1)
        results.append(("first request (fills the working-day table)", first, status))
        store = app.extensions.get("redress_page_cache")
        app.extensions["redress_page_cache"] = None
        for label, url in (("/analytics, last 12 months", "/analytics"),
                           ("/analytics, five years", five_years),
                           ("one chart (SVG), five years",
                            five_years.replace("/analytics?", "/analytics/charts/month.svg?"))):
            results.append((label + ", cache off", *timed(client, url, repeat)))
        app.extensions["redress_page_cache"] = store
        client.get(five_years)
        results.append(("/analytics, five years, cached", *timed(client, five_years, repeat)))
        results.append(("CSV export, five years",
                        *timed(client, five_years.replace("/analytics?",
                                                          "/analytics/export.csv?"), 1)))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated complaint counts")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    failed = False
    print("| complaints | request | ms (median) | status |")
    print("|---:|---|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        for label, ms, status in measure(size, args.repeat):
            print(f"| {size:,} | {label} | {ms:,.0f} | {status} |")
            if label == "/analytics, five years, cache off":
                limit = TARGET_MS if size >= 100_000 else TARGET_MS / 4
                failed |= ms > limit or status != 200
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
