"""The resolution phase's client documents (outcome notice, completion notice, apology letter)
and their emails, rendered from plain data: both languages, the remedies, the recourse, the
print-for-post version, and never an internal measure."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.config import Defaults
from portal.documents import (
    acknowledgement_context,
    apology_context,
    completion_context,
    for_post,
    outcome_context,
    render,
    render_apology_letter,
    render_completion_notice,
    render_for_post,
    render_outcome_notice,
)
from portal.documents.outcome_notice import money

CST = timezone(timedelta(hours=8))
CONFIG = {key: getattr(Defaults, key) for key in dir(Defaults) if key.isupper()}
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LINK = ("https://portal.firm.example/c/TS-2026-00042/"
        "eyJjIjo0MiwiZSI6MTc5OTk5OTk5OX0.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA")
RECOURSE = {
    "zh": "您可以向上海市律师协会投诉，电话 021-6418 8000；"
          "也可以向上海市浦东新区司法局投诉，电话 12348。",
    "en": "You may complain to the Shanghai Bar Association (+86 21 6418 8000) or to the "
          "Pudong New Area Bureau of Justice (12348).",
}
ADDRESS = "上海市徐汇区漕溪北路 88 号 5 楼 502 室\n200030"
# Internal measures, with words that would give them away if they ever reached a document.
INTERNAL = [
    {"kind": "internal_criticism", "amount": None, "currency": "CNY", "scope": None,
     "due": date(2026, 12, 1), "done_on": date(2026, 12, 1),
     "details": "内部批评 internal criticism of 王磊"},
    {"kind": "disciplinary", "level": "warning", "amount": Decimal("0"), "currency": "CNY",
     "scope": "纪律处分 Disciplinary warning", "due": date(2026, 12, 1),
     "done_on": date(2026, 12, 1), "details": "纪律处分 disciplinary measure"},
]
FORBIDDEN = ("内部批评", "纪律处分", "internal criticism", "disciplinary")


def outcome_facts(**changes) -> dict:
    facts = {
        "reference": "TS-2026-00042", "language": "zh", "complainant_name": "李明",
        "received_at": datetime(2026, 9, 30, 10, 0, tzinfo=CST),
        "handler": {"name": "赵敏", "email": "zhao.min@firm.example", "phone": "+86 21 5000 0101"},
        "notice_version": 1, "round_number": None,
        "client_summary": "经核查，王律师确有多次未按约定时间回复您询问的情况。",
        "remedies": [
            {"kind": "written_apology", "amount": None, "currency": "CNY", "scope": None,
             "due": date(2026, 12, 4)},
            {"kind": "partial_refund", "amount": Decimal("5000"), "currency": "CNY",
             "scope": None, "due": date(2026, 12, 18)},
            {"kind": "free_follow_up", "amount": None, "currency": "CNY",
             "scope": "二审阶段的证据整理", "due": date(2027, 1, 29)},
            *INTERNAL,
        ],
        "recourse": dict(RECOURSE), "answer_by": date(2026, 12, 11), "client_link": LINK,
        "postal_address": None,
    }
    return {**facts, **changes}


def completion_facts(**changes) -> dict:
    facts = {
        "reference": "TS-2026-00042", "language": "zh", "complainant_name": "李明",
        "handler": {"name": "赵敏", "email": "zhao.min@firm.example", "phone": "+86 21 5000 0101"},
        "remedies_done": [
            {"kind": "written_apology", "done_on": date(2026, 12, 2), "amount": None,
             "currency": "CNY", "details": None},
            {"kind": "partial_refund", "done_on": date(2026, 12, 10),
             "amount": Decimal("5000.00"), "currency": "CNY", "details": "银行转账"},
            *INTERNAL,
        ],
        "client_link": LINK, "postal_address": None,
    }
    return {**facts, **changes}


def apology_facts(**changes) -> dict:
    facts = {
        "reference": "TS-2026-00042", "language": "zh", "complainant_name": "李明",
        "letter_text": "尊敬的李明先生：\n\n就未能及时回复您的询问一事，本所谨向您郑重致歉。",
        "signer": {"name": "陈静", "title": "管理合伙人"}, "postal_address": None,
        "remedies": INTERNAL,  # ignored by the letter; here to prove nothing leaks
    }
    return {**facts, **changes}


def pdftotext(pdf: bytes, mode: str = "-layout") -> str:
    """The text as laid out, or ("-raw") in the order it was drawn: one column's cell after
    the other, so a paragraph of the bilingual columns reads whole."""
    return subprocess.run(["pdftotext", mode, "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def per_page(pdf: bytes) -> float:
    return len(pdf) / len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def outcome_pdf() -> bytes:
    return render_outcome_notice(outcome_context(outcome_facts(), CONFIG, now=NOW))


@pytest.fixture(scope="module")
def documents(outcome_pdf) -> dict[str, bytes]:
    """Each client document, rendered from facts that hold internal measures."""
    return {
        "outcome": outcome_pdf,
        "completion": render_completion_notice(completion_context(completion_facts(), CONFIG,
                                                                  now=NOW)),
        "apology": render_apology_letter(apology_context(apology_facts(), CONFIG, now=NOW)),
    }


# -- contexts ---------------------------------------------------------------------------

def test_contexts_drop_internal_measures():
    outcome = outcome_context(outcome_facts(), CONFIG, now=NOW)
    assert [r["code"] for r in outcome["remedies"]] == [
        "written_apology", "partial_refund", "free_follow_up"]
    completion = completion_context(completion_facts(), CONFIG, now=NOW)
    assert [r["code"] for r in completion["remedies_done"]] == ["written_apology",
                                                                "partial_refund"]
    only_internal = outcome_context(outcome_facts(remedies=INTERNAL), CONFIG, now=NOW)
    assert only_internal["remedies"] == [] and only_internal["timetable"] == [
        {"on": only_internal["answer_by"], "step": only_internal["timetable"][0]["step"]}]


def test_an_unknown_remedy_kind_is_refused_rather_than_shown():
    with pytest.raises(ValueError, match="unknown remedy kind"):
        outcome_context(outcome_facts(remedies=[{"kind": "suspension", "due": date(2026, 12, 1)}]),
                        CONFIG, now=NOW)


@pytest.mark.parametrize("recourse", [
    None, {}, {"zh": "", "en": RECOURSE["en"]}, {"zh": RECOURSE["zh"], "en": "  \n"},
    {"zh": RECOURSE["zh"]},
])
def test_a_blank_recourse_is_refused(recourse):
    with pytest.raises(ValueError, match="recourse"):
        outcome_context(outcome_facts(recourse=recourse), CONFIG, now=NOW)


def test_money_has_two_decimals_and_the_currency():
    assert money(Decimal("1234.5")) == "CNY 1,234.50"
    assert money(Decimal("0.005"), "cny") == "CNY 0.01"
    assert money(500, "GBP") == "GBP 500.00"
    assert money(None) is None


def test_contexts_are_plain_data():
    def check(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str)
                check(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                check(item, f"{path}[{i}]")
        else:
            assert value is None or isinstance(value, str | int | bool), (path, type(value))

    check(outcome_context(outcome_facts(), CONFIG, now=NOW), "outcome")
    check(completion_context(completion_facts(), CONFIG, now=NOW), "completion")
    check(apology_context(apology_facts(), CONFIG, now=NOW), "apology")


# -- the outcome notice -----------------------------------------------------------------

def test_outcome_notice_holds_both_languages_remedies_recourse_and_link(outcome_pdf):
    text = pdftotext(outcome_pdf)
    joined = flat(text)
    assert "投诉处理结果通知书" in text and "Outcome of Your Complaint" in text
    assert "（修订）" not in text and "Revised" not in text
    assert "TS-2026-00042" in text and "李明" in text and "赵敏" in text
    for zh, en in (("书面道歉", "Written apology"), ("部分退还律师费", "Partial fee refund"),
                   ("免费后续服务", "Free follow-up service")):
        assert zh in joined and en in text
    assert "CNY 5,000.00" in text
    assert "二审阶段的证据整理" in joined  # the follow-up's scope, as written
    for zh_day, en_day in (("2026年12月4日", "4 December 2026"),
                           ("2026年12月18日", "18 December 2026"),
                           ("2027年1月29日", "29 January 2027"),
                           ("2026年12月11日", "11 December 2026")):  # the answer's date
        assert zh_day in joined and en_day in text
    drawn = flat(pdftotext(outcome_pdf, "-raw"))
    assert flat(RECOURSE["zh"]) in drawn and flat(RECOURSE["en"]) in drawn
    assert LINK in joined
    assert "经核查，王律师确有多次未按约定时间回复您询问的情况。" in joined  # as written
    assert joined.index("尊敬的李明") < joined.index("Dear李明")  # the client's language first
    uris = [annotation.get_object()["/A"]["/URI"]
            for page in PdfReader(io.BytesIO(outcome_pdf)).pages
            for annotation in page.get("/Annots") or []]
    assert LINK in uris  # and the link can be followed


def test_english_client_reads_english_first():
    facts = outcome_facts(language="en", complainant_name="Emily Carter")
    context = outcome_context(facts, CONFIG, now=NOW)
    assert context["languages"] == ["en", "zh"]
    pdf = render_outcome_notice(context)
    joined = flat(pdftotext(pdf))
    assert joined.index("DearEmilyCarter") < joined.index("尊敬的EmilyCarter")
    drawn = flat(pdftotext(pdf, "-raw"))
    assert drawn.index(flat(RECOURSE["en"])) < drawn.index(flat(RECOURSE["zh"]))


def test_a_revised_notice_says_so():
    context = outcome_context(outcome_facts(notice_version=2, round_number=1), CONFIG, now=NOW)
    assert context["heading"] == {"zh": "投诉处理结果通知书（修订）",
                                  "en": "Outcome of Your Complaint (Revised)"}
    pdf = render_outcome_notice(context)
    text = pdftotext(pdf)
    assert "投诉处理结果通知书（修订）" in text and "Outcome of Your Complaint (Revised)" in text
    assert "revisedafternegotiationround1" in flat(text) and "第1轮协商后修订" in flat(text)
    assert PdfReader(io.BytesIO(pdf)).metadata.title.startswith(
        "投诉处理结果通知书（修订） TS-2026-00042")
    assert "（修订）" in render("emails/outcome.txt", context)


def _words_in(pdf: bytes, first: int = 1) -> list[tuple[float, float, str]]:
    """(x, y) in mm from the top left of page `first`, and each word."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(first), "-l", str(first), "-", "-"],
                         input=pdf, capture_output=True, check=True).stdout.decode()
    return [(float(x) * 25.4 / 72, float(y) * 25.4 / 72, word) for x, y, word in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', out)]


def test_the_postal_address_is_printed_only_for_post(outcome_pdf):
    assert "漕溪北路" not in flat(pdftotext(outcome_pdf))
    posted = render_outcome_notice(outcome_context(outcome_facts(postal_address=ADDRESS), CONFIG,
                                                   now=NOW))
    words = _words_in(posted)
    street = next((x, y) for x, y, word in words if word.startswith("上海市徐汇区漕溪北路"))
    name = next((x, y) for x, y, word in words if word == "李明")
    # in a DL envelope's window: 20 mm from the left edge, 45 to 90 mm from the top
    for x, y in (street, name):
        assert 20 <= x <= 105 and 45 <= y <= 90, (x, y)
    assert name[1] < street[1]
    assert "200030" in pdftotext(posted)
    blank = outcome_context(outcome_facts(postal_address="  \n "), CONFIG, now=NOW)
    assert blank["postal_address"] is None


def test_any_notice_can_be_printed_for_post():
    """The acknowledgement (which extends the same layout) gets the address block too."""
    facts = {"reference": "TS-2026-00042", "language": "zh", "complainant_name": "李明",
             "received_at": datetime(2026, 9, 30, 10, 0, tzinfo=CST), "respondents": [],
             "matter": None, "narrative": "未按时回复。", "remedies": [], "deadline": None}
    context = acknowledgement_context(facts, CONFIG, now=NOW)
    assert for_post(context, "")["postal_address"] is None
    text = pdftotext(render_for_post("pdf/acknowledgement.html", context, ADDRESS))
    assert "漕溪北路" in flat(text) and "投诉受理通知书" in text


def test_one_font_and_at_most_100_kb_a_page(documents, tmp_path):
    for name, pdf in documents.items():
        assert per_page(pdf) <= 100 * 1024, (name, len(pdf))
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
        fonts = {line.split()[0].split("+")[-1] for line in out.stdout.splitlines()[2:]
                 if line.strip()}
        assert fonts == {"Noto-Sans-CJK-SC"}, (name, fonts)


# -- no internal measure in anything the client receives ---------------------------------

def test_no_client_document_mentions_an_internal_measure(documents):
    texts = {name: pdftotext(pdf) for name, pdf in documents.items()}
    outcome = outcome_context(outcome_facts(), CONFIG, now=NOW)
    completion = completion_context(completion_facts(), CONFIG, now=NOW)
    for kind, context in (("outcome", outcome), ("completion", completion)):
        for extension in ("html", "txt"):
            texts[f"{kind}.{extension}"] = render(f"emails/{kind}.{extension}", context)
    for name, text in texts.items():
        lowered = flat(text).lower()
        found = [word for word in FORBIDDEN if flat(word).lower() in lowered]
        assert not found, (name, found)
    # ... while the documents did render their client-facing content
    assert "书面道歉" in flat(texts["completion"]) and "银行转账" in flat(texts["completion"])
    assert "郑重致歉" in flat(texts["apology"])


# -- the completion notice and the apology letter ----------------------------------------

def test_completion_notice_lists_what_was_done_in_both_languages(documents):
    text = pdftotext(documents["completion"])
    joined = flat(text)
    assert "投诉处理措施完成通知书" in text and "Remedies Carried Out" in text
    assert "部分退还律师费" in joined and "Partial fee refund" in text
    assert "CNY 5,000.00" in text
    assert "2026年12月10日" in joined and "10 December 2026" in text
    assert LINK in joined


def test_apology_letter_shows_the_text_as_written_and_the_signer(documents):
    text = pdftotext(documents["apology"])
    joined = flat(text)
    assert "致歉函" in text and "Letter of Apology" in text
    assert flat(apology_facts()["letter_text"]) in joined
    assert "陈静" in text and "管理合伙人" in text
    assert "示例律师事务所" in text and "Example Law Firm" in text
    with pytest.raises(ValueError):
        apology_context(apology_facts(letter_text="  "), CONFIG, now=NOW)


# -- the emails ----------------------------------------------------------------------------

def test_outcome_email_gives_the_remedies_the_answer_date_and_the_link():
    context = outcome_context(outcome_facts(), CONFIG, now=NOW)
    for extension in ("html", "txt"):
        body = render(f"emails/outcome.{extension}", context)
        assert "部分退还律师费：CNY 5,000.00" in body and "Partial fee refund: CNY 5,000.00" in body
        assert "2026年12月11日" in body and "11 December 2026" in body
        assert LINK in body
        assert body.index("尊敬的李明") < body.index("Dear 李明")
    html = render("emails/outcome.html", context)
    assert f'<a href="{LINK}">' in html and '<html lang="zh-CN">' in html


def test_completion_email_lists_what_was_done():
    context = completion_context(completion_facts(language="en"), CONFIG, now=NOW)
    body = render("emails/completion.txt", context)
    assert "Partial fee refund: CNY 5,000.00 (done on 10 December 2026)" in body
    assert body.index("Dear 李明") < body.index("尊敬的李明")
    assert context["subject"] == ("The agreed remedies are carried out TS-2026-00042 / "
                                  "投诉处理措施已完成 TS-2026-00042")
