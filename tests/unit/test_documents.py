"""Bilingual acknowledgement PDFs: content, fonts, metadata, size, safe fetching, storage."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import date, datetime, timedelta, timezone

import pytest
from jinja2 import UndefinedError
from pypdf import PdfReader
from sqlalchemy import select
from weasyprint.urls import path2url

from portal import clock
from portal.db import db, writes_by_default
from portal.documents import (
    STATIC_DIR,
    DocumentError,
    RefusedResource,
    StaticOnlyFetcher,
    harfbuzz_subset_available,
    html_to_pdf,
    render,
    render_pdf,
)
from portal.documents.acknowledgement import acknowledgement_context
from portal.documents.pdf import png_up_encode
from portal.models import (
    AuditEvent,
    Client,
    Complaint,
    Deadline,
    Matter,
    Notice,
    State,
    User,
)
from portal.services import calendar, notices

CST = timezone(timedelta(hours=8))
RECEIVED = datetime(2026, 9, 30, 10, 0, tzinfo=CST)  # the day before National Day 2026


@pytest.fixture
def ctx(app):
    with app.app_context(), writes_by_default():
        yield app


def make_complaint(language: str = "zh", reference: str = "TS-2026-00042") -> Complaint:
    name = "李明" if language == "zh" else "Emily Carter"
    deadline = calendar.first_response_due(RECEIVED, 3)
    complaint = Complaint(
        reference=reference, state=State.REGISTERED, language=language, channel="walk_in",
        received_at=RECEIVED,
        complainant=Client(name=name, email="client@example.com", language=language),
        matter=db.session.scalar(select(Matter).where(Matter.reference == "M-2025-0142")),
        respondents=[db.session.scalar(select(User).where(User.name == "王磊"))],
        narrative="王律师多次未按约定时间回复我的询问，开庭前一天才通知我补充证据。",
        occurred_on=date(2026, 8, 1), occurred_until=date(2026, 9, 15),
        occurred_place="北京市朝阳区人民法院",
        remedies_sought=["explanation", "partial_refund"],
        remedy_details="希望退还部分律师费。",
        deadlines=[Deadline(kind="first_response", due=deadline.due,
                            provisional=deadline.provisional)],
        registered_at=clock.now(),
    )
    db.session.add(complaint)
    db.session.flush()
    return complaint


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def pdffonts(pdf: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


# -- HarfBuzz subsetting ----------------------------------------------------------------

def test_weasyprint_subsets_fonts_with_harfbuzz():
    """Without libharfbuzz-subset0 WeasyPrint falls back to fontTools: ~10 s per notice."""
    assert harfbuzz_subset_available(), (
        "WeasyPrint cannot load libharfbuzz-subset (>= 4.1.0) and would subset fonts with "
        "fontTools (~60x slower): apt-get install libharfbuzz-subset0")


def test_rendering_never_takes_the_fonttools_path(ctx, monkeypatch):
    from weasyprint.pdf import fonts

    def fallback(*args, **kwargs):
        raise AssertionError("WeasyPrint used the fontTools subsetter")

    monkeypatch.setattr(fonts.Font, "_fonttools_subset", fallback)
    assert render_pdf("acknowledgement.html",
                      notices.context_for(make_complaint(), "acknowledgement")).startswith(b"%PDF")


# -- the acknowledgement ----------------------------------------------------------------

def test_documents_import_no_model_and_no_service():
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "portal" / "documents"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("portal.models", "portal.services")), (
                    path.name, node.module)


def test_the_document_formats_the_deadline_the_service_gives_it(ctx):
    """The document does not recompute the deadline: it shows the one in its facts."""
    facts = notices.acknowledgement_facts(make_complaint(), ctx.config)
    facts["deadline"] = {"due": date(2026, 11, 2), "provisional": True, "working_days": 2}
    deadline = acknowledgement_context(facts, ctx.config)["deadline"]
    assert (deadline["iso"], deadline["provisional"], deadline["working_days"]) == (
        "2026-11-02", True, 2)
    assert acknowledgement_context({**facts, "deadline": None}, ctx.config)["deadline"] is None


def test_context_is_plain_data(ctx):
    context = notices.context_for(make_complaint(), "acknowledgement")

    def check(value, path="context"):
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str)
                check(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                check(item, f"{path}[{i}]")
        else:
            assert value is None or isinstance(value, str | int | bool), (path, type(value))

    check(context)
    assert context["deadline"]["zh"].startswith("2026年10月10日")
    assert context["remedies"][1] == {"code": "partial_refund", "zh": "部分退还律师费",
                                      "en": "A partial refund of fees"}


def test_acknowledgement_pdf_holds_both_languages_reference_and_deadline(ctx, tmp_path):
    complaint = make_complaint()
    assert complaint.first_response_due == date(2026, 10, 10)  # after the holiday, a Saturday
    pdf = render_pdf("acknowledgement.html", notices.context_for(complaint, "acknowledgement"))
    text = pdftotext(pdf)
    flat = re.sub(r"\s+", "", text)
    assert "TS-2026-00042" in text
    assert "投诉受理通知书" in text and "Acknowledgement of Complaint" in text
    assert "2026年10月10日" in flat and "Saturday, 10 October 2026" in text
    assert "2026年9月30日" in flat and "30 September 2026" in text
    assert "李明" in text and "王磊" in text and "M-2025-0142" in text
    assert "开庭前一天才通知我补充证据" in flat  # the narrative as recorded
    assert "部分退还律师费" in flat and "A partial refund of fees" in text
    assert "不构成对任何责任的承认" in flat and "not an admission of liability" in text
    assert "个人信息保护声明" in flat and "Privacy statement" in text
    assert "complaints@firm.example" in text and "+86 21 5000 0000" in text
    assert "示例律师事务所" in text and "Example Law Firm" in text
    # the client's language first
    assert flat.index("尊敬的李明") < flat.index("Dear李明")

    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title.startswith("投诉受理通知书 TS-2026-00042 / Acknowledgement")
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert reader.metadata.creation_date is not None
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(=\"|>)3", xmp) and re.search(r"pdfaid:conformance(=\"|>)B", xmp)

    fonts = pdffonts(pdf, tmp_path)
    assert fonts, "no fonts in the PDF"
    assert all(row[-5] == "yes" for row in fonts), fonts  # the "emb" column
    assert {row[0].split("+")[-1] for row in fonts} == {"Noto-Sans-CJK-SC"}

    pages = len(reader.pages)
    assert len(pdf) / pages <= 100 * 1024, f"{len(pdf)} bytes for {pages} pages"


def test_english_client_gets_english_first(ctx):
    complaint = make_complaint(language="en", reference="TS-2026-00043")
    pdf = render_pdf("acknowledgement.html", notices.context_for(complaint, "acknowledgement"))
    flat = re.sub(r"\s+", "", pdftotext(pdf))
    assert flat.index("DearEmilyCarter") < flat.index("尊敬的EmilyCarter")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.metadata.title.startswith("Acknowledgement of complaint TS-2026-00043 / ")


def test_embedded_font_decodes_to_a_valid_font(ctx, tmp_path):
    """The predictor-encoded font program round-trips (pypdf decodes, fontTools parses)."""
    from fontTools.ttLib import TTFont

    pdf = render_pdf("acknowledgement.html",
                     notices.context_for(make_complaint(), "acknowledgement"))
    reader = PdfReader(io.BytesIO(pdf))
    font = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    stream = descriptor["/FontFile3"].get_object()
    assert stream["/DecodeParms"]["/Predictor"] == 12
    parsed = TTFont(io.BytesIO(stream.get_data()))
    assert "CFF " in parsed and parsed["maxp"].numGlyphs > 100
    (tmp_path / "n.pdf").write_bytes(pdf)
    drawn = subprocess.run(["pdftoppm", "-r", "40", "-gray", "-singlefile", "-f", "1", "-l", "1",
                            str(tmp_path / "n.pdf"), str(tmp_path / "page")],
                           capture_output=True, check=True, text=True)
    assert not drawn.stderr  # poppler reports font program errors here
    header, pixels = (tmp_path / "page.pgm").read_bytes().split(b"\n255\n", 1)
    assert sum(1 for p in pixels if p < 200) > 5000  # text was actually drawn


def test_png_up_predictor_encoding():
    data = bytes(range(256)) * 3 + b"\x01"
    encoded, size = png_up_encode(data)
    assert size == len(data) + 2 and size % 3 == 0
    rows = [encoded[i:i + 4] for i in range(0, len(encoded), 4)]
    assert all(row[0] == 2 for row in rows)
    padded = data + b"\0\0"
    decoded, previous = bytearray(), bytes(3)
    for row in rows:
        current = bytes((a + b) & 0xFF for a, b in zip(row[1:], previous, strict=True))
        decoded += current
        previous = current
    assert bytes(decoded) == padded


# -- the restricted URL fetcher ---------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://example.com/logo.png",
    "https://example.com/logo.png",
    "ftp://example.com/logo.png",
    "file:///etc/passwd",
    path2url(str(STATIC_DIR.parent / "portal" / "config.py")),
    path2url(str(STATIC_DIR)) + "../portal/config.py",
    path2url(str(STATIC_DIR)) + "img/../../pyproject.toml",
    "file://evil.example.com/share/logo.png",
    "javascript:alert(1)",
])
def test_fetcher_refuses_everything_outside_static(url):
    with pytest.raises(RefusedResource):
        StaticOnlyFetcher().fetch(url)


def test_fetcher_serves_static_files_and_data_uris():
    fetcher = StaticOnlyFetcher()
    svg = fetcher.fetch(path2url(str(STATIC_DIR / "img" / "letterhead.svg")))
    assert svg.content_type == "image/svg+xml" and b"<svg" in svg.read()
    data = fetcher.fetch("data:text/plain;base64,SGVsbG8=")
    assert data.read() == b"Hello"


@pytest.mark.parametrize("src", ["http://127.0.0.1:9/x.png", "file:///etc/passwd",
                                 "../pyproject.toml"])
def test_a_template_reaching_outside_static_fails_to_render(src):
    html = f'<html lang="en"><head><title>t</title></head><body><img src="{src}"></body></html>'
    with pytest.raises(DocumentError):
        html_to_pdf(html)


def test_templates_only_see_plain_data():
    with pytest.raises(DocumentError):
        render("intake/show.html", {})
    with pytest.raises(DocumentError):
        render("emails/../base.html", {})
    # StrictUndefined: missing data fails loudly instead of rendering an empty string.
    with pytest.raises(UndefinedError, match="'languages' is undefined"):
        render("emails/acknowledgement.txt", {})


# -- stored notices ---------------------------------------------------------------------

def test_issue_stores_versions_immutably_with_their_sha256(ctx):
    partner = db.session.scalar(select(User).where(User.username == "partner2"))
    complaint = make_complaint()
    first = notices.issue(complaint, "acknowledgement", actor=partner)
    second = notices.issue(complaint, "acknowledgement", actor=partner)
    db.session.commit()
    assert (first.version, second.version) == (1, 2)
    assert first.stored_name != second.stored_name
    data = notices.read_bytes(first)
    assert hashlib.sha256(data).hexdigest() == first.sha256 and len(data) == first.size
    path = notices.path_of(first)
    assert path.parent == notices.notice_dir() and path.stat().st_mode & 0o222 == 0
    assert str(path).startswith(ctx.config["NOTICE_DIR"])
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "notice.issued")).all()
    assert [e.details["version"] for e in events] == [1, 2]
    assert events[0].actor_id == partner.id and events[0].object_id == str(complaint.id)

    path.chmod(0o640)
    altered = bytearray(data)
    altered[len(data) // 2] ^= 0x01  # one bit
    path.write_bytes(bytes(altered))
    with pytest.raises(notices.NoticeError):
        notices.read_bytes(first)


def test_unknown_kind_is_refused(ctx):
    with pytest.raises(notices.NoticeError):
        notices.issue(make_complaint(), "outcome")


def test_notice_dir_defaults_to_the_instance_folder(ctx):
    ctx.config["NOTICE_DIR"] = None
    assert notices.notice_dir() == __import__("pathlib").Path(ctx.instance_path) / "notices"


# -- flask notices render ---------------------------------------------------------------

def test_cli_renders_a_notice_without_storing_it(ctx, runner, tmp_path):
    make_complaint()
    db.session.commit()
    out = tmp_path / "ack.pdf"
    result = runner.invoke(args=["notices", "render", "TS-2026-00042", "--kind",
                                 "acknowledgement", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "TS-2026-00042" in pdftotext(out.read_bytes())
    assert db.session.scalars(select(Notice)).all() == []

    result = runner.invoke(args=["notices", "render", "TS-1999-00001", "--out", str(out)])
    assert result.exit_code != 0 and "TS-1999-00001" in result.output
    result = runner.invoke(args=["notices", "render", "TS-2026-00042", "--kind", "bogus",
                                 "--out", str(out)])
    assert result.exit_code != 0


def test_cli_verify_reports_altered_notices(ctx, runner):
    notice = notices.issue(make_complaint(), "acknowledgement")
    db.session.commit()
    assert runner.invoke(args=["notices", "verify"]).exit_code == 0
    path = notices.path_of(notice)
    path.chmod(0o640)
    path.write_bytes(b"%PDF-forged")
    result = runner.invoke(args=["notices", "verify"])
    assert result.exit_code == 1 and f"notice {notice.id}" in result.output


def test_a_notice_rolled_back_leaves_no_file(ctx):
    complaint = make_complaint()
    db.session.commit()
    notice = notices.issue(complaint, "acknowledgement")
    path = notices.path_of(notice)
    assert path.exists()
    db.session.rollback()
    assert not path.exists()
    kept = notices.issue(db.session.get(Complaint, complaint.id), "acknowledgement")
    db.session.commit()
    assert notices.path_of(kept).exists()
