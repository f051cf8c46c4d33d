"""Benchmark: `flask matters import` of 20,000 matter rows, then the same file again.

    .venv/bin/python -m tests.bench.bench_matters_import [--rows 20000] [--xlsx]

A throwaway instance (SQLite, migrated with `flask db upgrade`, the demo firm from
`flask demo seed`), a generated file of --rows matters naming the demo firm's clients,
departments, lawyers and matter types (a team on most, some closed, some with fees paid above
the agreed fees and a partner's confirmation), then, each as its own `flask` process (start-up
included, as a user would time it):

* the import (every matter created, with its checklist and audit event),
* the same file again (every row unchanged: nothing written).

Prints a markdown table; exits 1 when either takes over TARGET_S seconds or its report is not
the expected one.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from portal.demo import CLIENTS, LAWYERS
from portal.services.prevention.import_file import COLUMNS
from portal.services.prevention.seed import MATTER_TYPE_SEED
from tests.bench.bench_concurrency import Bench, create_schema, make_instance
from tests.bench.loadgen import ROOT

TARGET_S = 60.0
DEPARTMENTS = ("争议解决部", "Corporate and M&A", "婚姻家事部", "知识产权部")
PARTNERS = ("陈志远", "liu.huimin@firm.example", "郑志强", "马文博")
CONFIRMING_PARTNER = "chen.zhiyuan@firm.example"


def generate(path: Path, rows: int, seed: int = 12) -> None:
    """`rows` matters against the demo firm, written as CSV (or XLSX for a .xlsx path)."""
    rng = random.Random(seed)
    lawyers = [name for name, *_rest in LAWYERS]
    types = [code for code, *_rest in MATTER_TYPE_SEED]
    today = date.today()
    lines = []
    for number in range(1, rows + 1):
        name, _phone, email, id_number, *_rest = rng.choice(CLIENTS)
        opened = today - timedelta(days=rng.randint(30, 3 * 365))
        closed = rng.random() < 0.2
        agreed = rng.randrange(5_000, 300_000, 500)
        paid = agreed + 2_000 if rng.random() < 0.05 else rng.randrange(0, agreed + 1, 500)
        team = rng.sample(lawyers, rng.randint(0, 2))
        lines.append({
            "reference": f"BENCH-{number:06d}", "title": f"基准测试案件第{number}号",
            "client": name, "client_email": email if not id_number else "",
            "client_id_number": id_number or "", "case_number": f"(2026)沪0101民初{number}号",
            "matter_type": types[number % len(types)],
            "department": DEPARTMENTS[number % len(DEPARTMENTS)],
            "responsible_lawyer": rng.choice(lawyers), "partner": rng.choice(PARTNERS),
            "team": "; ".join(team), "opened_on": opened.isoformat(),
            "status": "closed" if closed else "open",
            "closed_on": (opened + timedelta(days=20)).isoformat() if closed else "",
            "report_interval_days": str(rng.choice((14, 30))) if rng.random() < 0.1 else "",
            "fees_agreed": str(agreed), "fees_paid": str(paid) if paid else "",
            "fees_currency": "CNY",
            "fees_excess_reason": "客户书面同意增加的工作" if paid > agreed else "",
            "fees_excess_confirmed_by": CONFIRMING_PARTNER if paid > agreed else "",
        })
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(list(COLUMNS))
        for line in lines:
            sheet.append([line[column] for column in COLUMNS])
        workbook.save(path)
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(lines)


def timed_import(bench: Bench, path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "matters", "import",
                             "--language", "en", str(path)], cwd=ROOT, env=bench.env,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
    lines = result.stdout.strip().splitlines()
    return elapsed, lines[-1] if lines else f"(exit {result.returncode})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--xlsx", action="store_true", help="an XLSX file instead of CSV")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redress-bench-matters-") as folder:
        folder_path = Path(folder)
        bench = Bench(folder_path, make_instance(folder_path), 0)
        create_schema(bench, "migrate")
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "demo", "seed"], cwd=ROOT,
                       env=bench.env, check=True, stdout=subprocess.DEVNULL)
        path = folder_path / ("matters.xlsx" if args.xlsx else "matters.csv")
        generate(path, args.rows)
        first = timed_import(bench, path)
        again = timed_import(bench, path)
    expected = (f"{args.rows} created, 0 updated, 0 unchanged",
                f"0 created, 0 updated, {args.rows} unchanged")
    print("| rows | file | run | seconds | report |")
    print("|---:|---|---|---:|---|")
    failed = False
    for label, (seconds, report), wanted in (("import", first, expected[0]),
                                             ("re-import", again, expected[1])):
        print(f"| {args.rows:,} | {path.suffix[1:]} | {label} | {seconds:.1f} | {report} |")
        failed |= seconds > TARGET_S or report != wanted
    print(f"target: each under {TARGET_S:.0f} s with the expected report:",
          "MISSED" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
