"""Benchmark: the bilingual acknowledgement against the same template with Latin text only.

    .venv/bin/python -m tests.bench.bench_notice [-n 10]

Variants, each rendered from templates/pdf/acknowledgement.html:

* bilingual      — zh + en side by side, a Chinese client (what clients receive);
* Latin, 2 cols  — the same template and layout with Latin text in both columns (the
                   English text twice, Latin names and narrative): the same amount of text,
                   so the ratio measures what CJK costs (shaping, the CJK font subset);
* English only   — one column (informational: half the text, so about half the time).

Targets (issue 3): bilingual ≤ 1.5 × the Latin two-column time, and ≤ 100 KB per page.
Exits 1 when a target is missed (or when WeasyPrint would subset fonts with fontTools).
No database or application is needed: the notice renders from plain data.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta, timezone

from pypdf import PdfReader

from portal.config import Defaults
from portal.documents import acknowledgement_context, harfbuzz_subset_available, render_pdf
from portal.models import Client, Complaint, Deadline, Matter, User
from portal.services.notices import acknowledgement_facts

CST = timezone(timedelta(hours=8))
MAX_RATIO = 1.5
MAX_BYTES_PER_PAGE = 100 * 1024
CONFIG = {key: getattr(Defaults, key) for key in dir(Defaults) if key.isupper()}


def complaint(latin: bool) -> Complaint:
    """A transient complaint (never added to a session) as intake would record it."""
    if latin:
        client = Client(name="Emily Carter", language="en")
        matter = Matter(reference="M-2026-0057", title="Carter v. Shanghai supplier",
                        case_number=None)
        respondent = User(name="Peng Zhao")
        narrative = ("Since August my lawyer has repeatedly failed to answer my questions on "
                     "time. I was told to provide further evidence only the day before the "
                     "hearing, so the evidence could not be submitted. My calls to the firm "
                     "went unanswered.")
        place, details = "London", "I would like part of the fees refunded (GBP 500)."
    else:
        client = Client(name="李明", language="zh")
        matter = Matter(reference="M-2025-0142", title="李明诉某房地产公司商品房买卖合同纠纷",
                        case_number="(2025)京0105民初12345号")
        respondent = User(name="王磊")
        narrative = ("2026年8月以来，王律师多次未按约定时间回复我的询问，开庭前一天才通知我"
                     "需要补充证据，导致证据未能及时提交。我多次打电话到律所，均无人回复。")
        place, details = "北京市朝阳区人民法院", "希望退还部分律师费人民币5,000元。"
    return Complaint(
        id=1, reference="TS-2026-00042", language="en" if latin else "zh",
        received_at=datetime(2026, 9, 30, 10, 0, tzinfo=CST), complainant=client,
        matter=matter, respondents=[respondent], narrative=narrative,
        occurred_on=date(2026, 8, 1), occurred_until=date(2026, 9, 15), occurred_place=place,
        remedies_sought=["explanation", "partial_refund"], remedy_details=details,
        deadlines=[Deadline(kind="first_response", due=date(2026, 10, 10))],
    )


def contexts() -> tuple[dict, dict, dict]:
    """(bilingual, Latin in two columns, English only)."""
    now = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    bilingual, latin = (
        acknowledgement_context(acknowledgement_facts(complaint(latin=latin), CONFIG), CONFIG,
                                now=now)
        for latin in (False, True))
    latin_two = {**latin, "languages": ["en", "en"], "language": "en", "lang_tag": "en"}
    english = {**latin, "languages": ["en"], "language": "en", "lang_tag": "en"}
    return bilingual, latin_two, english


def measure(context: dict, runs: int) -> tuple[float, bytes]:
    pdf = render_pdf("acknowledgement.html", context)  # warm-up: font loading, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = render_pdf("acknowledgement.html", context)
        times.append(time.perf_counter() - start)
    return statistics.median(times), pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10, help="renders per variant")
    args = parser.parse_args(argv)

    if not harfbuzz_subset_available():
        print("FAIL: WeasyPrint would subset fonts with fontTools (install libharfbuzz-subset0)")
        return 1
    results = {name: measure(context, args.runs) for name, context in
               zip(("bilingual zh+en", "Latin, 2 cols", "English only"), contexts(),
                   strict=True)}
    print(f"acknowledgement notice, median of {args.runs} renders (WeasyPrint, PDF/A-3b)")
    for name, (seconds, pdf) in results.items():
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"  {name:<16}: {seconds * 1000:7.1f} ms  {len(pdf) / 1024:6.1f} KB  "
              f"{pages} page(s)  {len(pdf) / pages / 1024:6.1f} KB/page")
    bilingual_time, bilingual_pdf = results["bilingual zh+en"]
    ratio = bilingual_time / results["Latin, 2 cols"][0]
    per_page = len(bilingual_pdf) / len(PdfReader(io.BytesIO(bilingual_pdf)).pages)
    print(f"  ratio bilingual / Latin 2 cols : {ratio:5.2f}x  (target <= {MAX_RATIO}x)")
    print(f"  ratio bilingual / English only : "
          f"{bilingual_time / results['English only'][0]:5.2f}x  (twice the text)")
    print(f"  bilingual size                 : {per_page / 1024:5.1f} KB/page (target <= "
          f"{MAX_BYTES_PER_PAGE // 1024} KB)")
    failures = []
    if ratio > MAX_RATIO:
        failures.append(f"bilingual takes {ratio:.2f}x the Latin-only time")
    if per_page > MAX_BYTES_PER_PAGE:
        failures.append(f"{per_page / 1024:.1f} KB per page")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
