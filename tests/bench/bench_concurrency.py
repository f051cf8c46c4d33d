"""Benchmark: concurrent readers under gunicorn, beside a one-line Flask page (issue 6 §1).

    .venv/bin/python -m tests.bench.bench_concurrency [--duration 10] [--sizes 1000,10000]

Builds a throwaway instance (SQLite), migrates it with `flask db upgrade` and seeds the demo
firm with registered complaints (`flask demo seed --complaints N`). For each size and for 1
and 2 gunicorn workers it measures, with wrk at 16 connections, signed in as the demo partner:
the home page, the complaint list, a Chinese search, one complaint's page (its GET also writes
an audit row) and a one-line Flask page served the same way (the ceiling). At the largest size
it measures the pages again while `flask outbox work` is stuck on an SMTP server that answers
only after 12 s. Prints the figures as markdown and exits 1 when a target is missed:

* every page ≥ 0.10 × the one-line page's requests/s, with p99 ≤ 3 × its own median, no errors;
* going from 1 to 2 workers gains ≥ 80 % of what the one-line page gains (in requests/s);
* with the outbox worker stuck on SMTP: p99 ≤ 2 × its normal value, and no errors.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from tests.bench.loadgen import (
    ROOT,
    Gunicorn,
    Result,
    get_status,
    portal_beside_ceiling,
    require_wrk,
    sign_in,
    wrk,
)
from tests.bench.slow_smtp import SlowSMTPServer

USERNAME, PASSWORD = "partner", "redress-demo"
SEARCH = "王"  # a common surname: the search matches complainants' names
SMTP_DELAY = 12.0
MIN_SHARE, MAX_TAIL, MIN_GAIN_SHARE, MAX_STUCK_P99 = 0.10, 3.0, 0.80, 2.0
CEILING = "one-line page"


@dataclass
class Bench:
    folder: Path
    env: dict[str, str]
    duration: float

    def flask(self, *args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *args], cwd=ROOT,
                       env=env or self.env, check=True)


def make_instance(folder: Path) -> dict[str, str]:
    (folder / "config.py").write_text(
        'SECRET_KEY = "bench-only-not-secret"\n'
        'AUDIT_HMAC_KEY = "bench-only-audit-key-0123456789abcdef"\n')
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "ENV_NAME", "SECRET_KEY", "MAIL_SERVER", "MAIL_PORT")}
    env.update(REDRESS_INSTANCE=str(folder), FLASK_APP="wsgi.py", PYTHONUNBUFFERED="1")
    return env


def create_schema(bench: Bench, how: str) -> None:
    if how == "migrate":
        bench.flask("db", "upgrade")
        return
    code = "from portal import create_app; from portal.db import db\n" \
           "app = create_app()\nwith app.app_context(): db.create_all()"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=bench.env, check=True)


def bench_app_context(bench: Bench):
    """The portal in this process, on the bench instance (for setup queries only)."""
    use_instance(bench)
    from portal import create_app

    return create_app().app_context()


def use_instance(bench: Bench) -> None:
    """Point this process's environment at the bench instance (and its database)."""
    os.environ["REDRESS_INSTANCE"] = bench.env["REDRESS_INSTANCE"]
    os.environ.pop("DATABASE_URL", None)
    if "DATABASE_URL" in bench.env:
        os.environ["DATABASE_URL"] = bench.env["DATABASE_URL"]


def visible_reference(bench: Bench) -> str:
    """The newest complaint the partner may open."""
    from sqlalchemy import select

    from portal.db import db
    from portal.models import Complaint, User

    with bench_app_context(bench):
        partner = db.session.scalar(select(User).where(User.username == USERNAME))
        reference = db.session.scalar(
            select(Complaint.reference).where(Complaint.visible_to(partner),
                                              Complaint.reference.is_not(None))
            .order_by(Complaint.id.desc()).limit(1))
        db.session.remove()
        db.engine.dispose()
    return reference


def queue_acknowledgements(bench: Bench, count: int) -> int:
    """Queue the acknowledgement of `count` complaints whose client has an email address."""
    from sqlalchemy import select

    from portal.db import db, write_transaction
    from portal.models import Client, Complaint
    from portal.services import notices

    with bench_app_context(bench):
        with write_transaction():
            complaints = db.session.scalars(
                select(Complaint).join(Complaint.complainant).where(Client.email.is_not(None))
                .order_by(Complaint.id.desc()).limit(count)).all()
            queued = sum(notices.queue_acknowledgement(None, c) is not None for c in complaints)
        db.session.remove()
        db.engine.dispose()
    return queued


def pages(reference: str) -> dict[str, str]:
    search = urllib.parse.urlencode({"state": "all", "q": SEARCH})
    return {"/": "/", "/complaints?state=all": "/complaints?state=all",
            f"/complaints?state=all&q={SEARCH}": f"/complaints?{search}",
            "/complaints/<reference>": f"/complaints/{reference}"}


def check_pages(base: str, cookie: str, paths: dict[str, str]) -> None:
    """Each page answers 200 to the signed-in partner (not a redirect to the login page)."""
    for label, path in paths.items():
        status, _body = get_status(base + path, cookie)
        if status != 200:
            raise SystemExit(f"{label} answered {status} before the measurement")
        for _ in range(10):  # warm up templates and caches in the workers
            get_status(base + path, cookie)


def measure(bench: Bench, workers: int, reference: str) -> dict[str, Result]:
    log = bench.folder / "gunicorn.log"
    with portal_beside_ceiling(workers, bench.env, log, USERNAME, PASSWORD) as (
            portal, ceiling, cookie):
        paths = pages(reference)
        check_pages(portal.base, cookie, paths)
        results = {CEILING: wrk(ceiling.base + "/", bench.duration)}
        for label, path in paths.items():
            results[label] = wrk(portal.base + path, bench.duration, cookie)
        return results


def measure_stuck(bench: Bench, reference: str) -> dict[str, Result]:
    """The pages while `flask outbox work` waits on a 12-second SMTP server (2 workers)."""
    smtp = SlowSMTPServer(SMTP_DELAY).start()
    queued = queue_acknowledgements(bench, 10)
    env = dict(bench.env, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port))
    log = (bench.folder / "outbox.log").open("ab")
    worker = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "outbox", "work",
                               "--interval", "0.5"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not queued or not smtp.connected.wait(timeout=60):
            raise SystemExit(f"the outbox worker never reached the SMTP server ({queued} queued)")
        with Gunicorn("wsgi:app", 2, bench.env, bench.folder / "gunicorn.log") as portal:
            portal.wait_ready("/healthz")
            cookie = sign_in(portal.base, USERNAME, PASSWORD, "redress_session")
            paths = pages(reference)
            check_pages(portal.base, cookie, paths)
            return {label: wrk(portal.base + path, bench.duration, cookie)
                    for label, path in paths.items()}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        smtp.stop()
        print(f"(slow SMTP server: {smtp.delivered} of {queued} messages accepted meanwhile)")


def show_logs(folder: Path, lines: int = 40) -> None:
    for name in ("gunicorn.log", "outbox.log"):
        path = folder / name
        if path.exists():
            print(f"--- last lines of {name}:", file=sys.stderr)
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            print("\n".join(tail), file=sys.stderr)


# --- targets and the report ----------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def page_rows(size: int, workers: int, results: dict[str, Result]) -> list[tuple[str, bool]]:
    rows = []
    ceiling = results[CEILING].requests_per_s
    for label, r in results.items():
        share = r.requests_per_s / ceiling
        ok = label == CEILING or (share >= MIN_SHARE and r.tail <= MAX_TAIL and not r.errors)
        rows.append((f"| {size:,} | {workers} | `{label}` | {r.requests_per_s:,.0f} | "
                     f"{share:.3f}× | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms | {r.tail:.1f} | "
                     f"{r.errors} | {'' if label == CEILING else verdict(ok)} |", ok))
    return rows


def scaling_rows(size: int, one: dict[str, Result], two: dict[str, Result]
                 ) -> list[tuple[str, bool]]:
    ceiling_gain = two[CEILING].requests_per_s / one[CEILING].requests_per_s
    rows = []
    for label in one:
        if label == CEILING:
            continue
        gain = two[label].requests_per_s / one[label].requests_per_s
        ok = gain - 1 >= MIN_GAIN_SHARE * (ceiling_gain - 1)
        rows.append((f"| {size:,} | `{label}` | {one[label].requests_per_s:,.0f} | "
                     f"{two[label].requests_per_s:,.0f} | {gain:.2f}× | {ceiling_gain:.2f}× | "
                     f"{verdict(ok)} |", ok))
    return rows


def stuck_rows(size: int, normal: dict[str, Result], stuck: dict[str, Result]
               ) -> list[tuple[str, bool]]:
    rows = []
    for label, r in stuck.items():
        ratio = r.p99_ms / normal[label].p99_ms
        ok = ratio <= MAX_STUCK_P99 and not r.errors
        rows.append((f"| {size:,} | `{label}` | {normal[label].p99_ms:.1f} ms | "
                     f"{r.p99_ms:.1f} ms | {ratio:.2f}× | {r.requests_per_s:,.0f} | {r.errors} | "
                     f"{verdict(ok)} |", ok))
    return rows


def report(results: dict[tuple[int, int], dict[str, Result]],
           stuck: dict[int, dict[str, Result]], duration: float) -> bool:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    print(f"\nMachine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
          f"SQLite; wrk -t2 -c16, {duration:g} s per measurement.\n")
    every: list[bool] = []

    def table(header: str, rows: list[tuple[str, bool]]) -> None:
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        for line, ok in rows:
            print(line)
            every.append(ok)
        print()

    table("| complaints | workers | page | requests/s | × one-line | p50 | p99 | p99/p50 | errors "
          "| target |", [row for (size, workers), r in results.items()
                          for row in page_rows(size, workers, r)])
    sizes = sorted({size for size, _workers in results})
    table("| complaints | page | 1 worker | 2 workers | gain | one-line gain | target |",
          [row for size in sizes for row in scaling_rows(size, results[size, 1],
                                                          results[size, 2])])
    table("| complaints | page (2 workers) | p99 normal | p99, worker stuck on SMTP | ratio "
          "| requests/s | errors | target |",
          [row for size, r in stuck.items() for row in stuck_rows(size, results[size, 2], r)])
    print(f"Targets: each page ≥ {MIN_SHARE:.2f}× the one-line page's requests/s with p99 ≤ "
          f"{MAX_TAIL:g}× its median and no errors; 1→2 workers gains ≥ "
          f"{MIN_GAIN_SHARE:.0%} of the one-line page's gain; p99 ≤ {MAX_STUCK_P99:g}× normal "
          f"while the outbox worker waits {SMTP_DELAY:g} s on SMTP.")
    print(f"Result: {sum(every)} of {len(every)} targets met.")
    return all(every)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--sizes", default="1000,10000",
                        help="complaint counts, ascending (comma-separated)")
    parser.add_argument("--schema", choices=("migrate", "create-all"), default="migrate",
                        help="build the schema with `flask db upgrade` (default) or from the "
                             "models (while the migrations lag behind them)")
    args = parser.parse_args()
    require_wrk()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.monotonic()
    results: dict[tuple[int, int], dict[str, Result]] = {}
    stuck: dict[int, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="redress-bench-") as folder:
        bench = Bench(Path(folder), make_instance(Path(folder)), args.duration)
        try:
            create_schema(bench, args.schema)
            seeded = 0
            for size in sizes:
                print(f"== {size:,} complaints", flush=True)
                bench.flask("demo", "seed", "--complaints", str(size - seeded))
                seeded = size
                reference = visible_reference(bench)
                for workers in (1, 2):
                    results[size, workers] = measure(bench, workers, reference)
                    summary = ", ".join(f"{label} {r.requests_per_s:,.0f}/s"
                                        for label, r in results[size, workers].items())
                    print(f"  {workers} worker(s): {summary}", flush=True)
            stuck[sizes[-1]] = measure_stuck(bench, reference)
        except BaseException:
            show_logs(bench.folder)
            raise
    ok = report(results, stuck, args.duration)
    print(f"(benchmark took {time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
