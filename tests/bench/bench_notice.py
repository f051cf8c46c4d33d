"""Benchmark: the bilingual acknowledgement against the same template with Latin text only,
and the outcome notice against the acknowledgement.

    .venv/bin/python -m tests.bench.bench_notice [-n 10]

Variants, each rendered from templates/pdf/acknowledgement.html:

* bilingual      — zh + en side by side, a Chinese client (what clients receive);
* Latin, 2 cols  — the same template and layout with Latin text in both columns (the
                   English text twice, Latin names and narrative): the same amount of text,
                   so the ratio measures what CJK costs (shaping, the CJK font subset);
* English only   — one column (informational: half the text, so about half the time).

Then the outcome notice (templates/pdf/outcome_notice.html), bilingual for a Chinese client,
as the resolution service would issue it: a revised notice with a summary of findings, three
remedies, the routes of recourse in both languages and the client's link.

Targets (issue 3): bilingual ≤ 1.5 × the Latin two-column time, and ≤ 100 KB per page.
Targets (issue 9): the outcome notice ≤ 1.5 × the bilingual acknowledgement's time, and
≤ 100 KB per page.
Exits 1 when a target is missed (or when WeasyPrint would subset fonts with fontTools).
No database or application is needed: the notices render from plain data.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from pypdf import PdfReader

from portal.config import Defaults
from portal.documents import (
    acknowledgement_context,
    harfbuzz_subset_available,
    outcome_context,
    render_pdf,
)
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


def outcome() -> dict:
    """The outcome notice's context from the facts the resolution service gathers."""
    facts = {
        "reference": "TS-2026-00042", "language": "zh", "complainant_name": "李明",
        "received_at": datetime(2026, 9, 30, 10, 0, tzinfo=CST),
        "handler": {"name": "赵敏", "email": "zhao.min@firm.example",
                    "phone": "+86 21 5000 0101"},
        "notice_version": 2, "round_number": 1,
        "client_summary": (
            "经核查，王律师在2026年8月至9月期间确有多次未按约定时间回复您询问的情况，并且在开庭"
            "前一天才通知您补充证据，未能给您留出合理的准备时间，本所认为这不符合本所的服务标准。"
            "\n关于收费，委托合同约定的收费标准本身并无不当，但考虑到上述服务瑕疵，本所决定部分"
            "退还律师费。"),
        "remedies": [
            {"kind": "written_apology", "amount": None, "currency": "CNY", "scope": None,
             "due": date(2026, 12, 4)},
            {"kind": "partial_refund", "amount": Decimal("5000"), "currency": "CNY",
             "scope": None, "due": date(2026, 12, 18)},
            {"kind": "free_follow_up", "amount": None, "currency": "CNY",
             "scope": "二审阶段的证据整理与庭前辅导", "due": date(2027, 1, 29)},
            {"kind": "internal_criticism", "amount": None, "currency": "CNY", "scope": None,
             "due": date(2026, 12, 1)},
        ],
        "recourse": {
            "zh": "如您对处理结果仍不满意，可以向本所所在地的律师协会投诉：上海市律师协会，地址："
                  "上海市肇嘉浜路789号，电话 021-6418 8000。\n您也可以向司法行政机关投诉："
                  "上海市浦东新区司法局，电话 12348。",
            "en": "If you remain dissatisfied, you may complain to the local lawyers' "
                  "association: Shanghai Bar Association, 789 Zhaojiabang Road, Shanghai, "
                  "telephone +86 21 6418 8000.\nYou may also complain to the judicial "
                  "administration bureau: Pudong New Area Bureau of Justice, telephone 12348.",
        },
        "answer_by": date(2026, 12, 11),
        "client_link": "https://portal.firm.example/c/TS-2026-00042/"
                       "eyJjIjo0MiwiZSI6MTc5OTk5OTk5OX0.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA",
        "postal_address": None,
    }
    return outcome_context(facts, CONFIG, now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


def measure(context: dict, runs: int,
            template: str = "acknowledgement.html") -> tuple[float, bytes]:
    pdf = render_pdf(template, context)  # warm-up: font loading, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = render_pdf(template, context)
        times.append(time.perf_counter() - start)
    return statistics.median(times), pdf


def kb_per_page(pdf: bytes) -> float:
    return len(pdf) / len(PdfReader(io.BytesIO(pdf)).pages) / 1024


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

    outcome_time, outcome_pdf = measure(outcome(), args.runs, "outcome_notice.html")
    outcome_ratio = outcome_time / bilingual_time
    print(f"outcome notice against the acknowledgement, median of {args.runs} renders")
    for name, (seconds, pdf) in (("acknowledgement", (bilingual_time, bilingual_pdf)),
                                 ("outcome notice", (outcome_time, outcome_pdf))):
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"  {name:<16}: {seconds * 1000:7.1f} ms  {len(pdf) / 1024:6.1f} KB  "
              f"{pages} page(s)  {kb_per_page(pdf):6.1f} KB/page")
    print(f"  ratio outcome / acknowledgement: {outcome_ratio:5.2f}x  (target <= {MAX_RATIO}x)")
    print(f"  outcome size                   : {kb_per_page(outcome_pdf):5.1f} KB/page (target "
          f"<= {MAX_BYTES_PER_PAGE // 1024} KB)")
    if outcome_ratio > MAX_RATIO:
        failures.append(f"the outcome notice takes {outcome_ratio:.2f}x the acknowledgement's "
                        "time")
    if kb_per_page(outcome_pdf) * 1024 > MAX_BYTES_PER_PAGE:
        failures.append(f"outcome notice: {kb_per_page(outcome_pdf):.1f} KB per page")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
