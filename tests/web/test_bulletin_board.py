"""The bulletin board (/bulletins): every staff member reads what partners published, searches
it and downloads it as a PDF; drafts are the partners', withdrawn bulletins nobody's; nothing
on the board names the complaint a bulletin came from."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import AuditEvent, Bulletin, Complaint, State, User
from portal.models.bulletin import BulletinStatus
from tests.findings_factory import make_investigation

REFERENCE = "TS-2026-00091"


def user(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def add_bulletin(app, title: str, body: str = "客户甲称律师乙三次未按约定时间回复。", *,
                 status: str = BulletinStatus.PUBLISHED, categories=("communication",),
                 rules=("《律师执业行为规范》第9条",), month: date = date(2026, 3, 1),
                 age_minutes: int = 0, complaint_id: int | None = None,
                 creator: str = "partner2", language: str = "zh") -> int:
    """A bulletin written straight to the database, as the services leave it: a draft may
    name its complaint; a published or withdrawn one never does."""
    with app.app_context(), write_transaction():
        author = user(creator)
        moment = clock.now() - timedelta(minutes=age_minutes)
        bulletin = Bulletin(
            status=status, title=title, body=body, language=language, month=month,
            categories=list(categories), rules=list(rules), created_by_id=author.id,
            created_at=moment, updated_at=moment,
            complaint_id=complaint_id if status == BulletinStatus.DRAFT else None)
        if status != BulletinStatus.DRAFT:
            bulletin.published_at, bulletin.published_by_id = moment, author.id
        if status == BulletinStatus.WITHDRAWN:
            bulletin.withdrawn_at, bulletin.withdrawn_by_id = moment, author.id
        db.session.add(bulletin)
        db.session.flush()
        return bulletin.id


def a_complaint(app, respondent: str | None = None) -> int:
    """A closed complaint (matter M-2025-0142: 陈志远, "partner", is kept out of it)."""
    with app.app_context():
        complaint_id = make_investigation(reference=REFERENCE, state=State.CLOSED)
        if respondent:
            with write_transaction():
                complaint = db.session.get(Complaint, complaint_id)
                complaint.respondents.append(user(respondent))
        return complaint_id


def sign_in(auth, username: str) -> None:
    auth.logout()
    response = auth.login(username)
    assert response.status_code == 303, response.text


def main_part(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def version_of(app, bulletin_id: int) -> int:
    with app.app_context():
        return db.session.get(Bulletin, bulletin_id).version


def pdftotext(pdf: bytes, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


@pytest.fixture
def shelf(app):
    """Two published bulletins (the newer first on the board), a draft and a withdrawn one."""
    return {
        "older": add_bulletin(app, "Missed appeal deadline", "Lawyer B missed the appeal "
                              "deadline.\n\nLessons: diarise every deadline twice.",
                              categories=("delay", "competence"), age_minutes=60,
                              language="en", rules=("Lawyers Law art. 38",)),
        "newer": add_bulletin(app, "典型案例：沟通不畅", categories=("communication", "fees"),
                              age_minutes=5),
        "draft": add_bulletin(app, "DRAFT-ONLY 草稿标题", status=BulletinStatus.DRAFT),
        "withdrawn": add_bulletin(app, "WITHDRAWN-ONLY 已撤回", status=BulletinStatus.WITHDRAWN),
    }


# -- the board ----------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["investigator", "committee2", "reception"])
def test_every_role_reads_the_published_bulletins_newest_first(app, client, auth, shelf,
                                                                username):
    sign_in(auth, username)
    html = client.get("/bulletins").text
    board = main_part(html)
    assert board.index("典型案例：沟通不畅") < board.index("Missed appeal deadline")
    assert "DRAFT-ONLY" not in html and "WITHDRAWN-ONLY" not in html
    assert "Drafts waiting for review" not in html
    assert "March 2026" in board  # the month, never a day
    assert "Communication" in board and "Fees and billing" in board  # category tags
    assert 'href="/bulletins"' in html.split("</nav>", 1)[0]  # in the main navigation
    assert client.get(f"/bulletins/{shelf['newer']}").status_code == 200


def test_the_board_is_in_chinese_with_the_month_spelled_the_chinese_way(app, client, auth,
                                                                        shelf):
    client.language = "zh-CN"
    sign_in(auth, "investigator")
    board = main_part(client.get("/bulletins").text)
    assert "2026年3月" in board and "March 2026" not in board


def test_an_excerpt_of_the_text_not_the_whole_text(app, client, auth):
    add_bulletin(app, "Long one", "开头" + "很长的正文。" * 100 + "THE-END-OF-THE-TEXT")
    sign_in(auth, "investigator")
    board = main_part(client.get("/bulletins").text)
    assert "开头很长的正文" in board and "THE-END-OF-THE-TEXT" not in board


def test_search_title_and_text_case_insensitively_with_wildcards_taken_literally(
        app, client, auth, shelf):
    add_bulletin(app, "Fees at 100% of the estimate", "A_B fee note.", categories=("fees",))
    sign_in(auth, "investigator")

    def titles(query: str) -> set[str]:
        board = main_part(client.get("/bulletins", query_string=query).text)
        return {t for t in ("Missed appeal deadline", "典型案例：沟通不畅",
                            "Fees at 100% of the estimate") if t in board}

    assert titles("q=APPEAL") == {"Missed appeal deadline"}  # the title
    assert titles("q=diarise") == {"Missed appeal deadline"}  # the text
    assert titles("q=未按约定") == {"典型案例：沟通不畅"}
    assert titles("q=%25") == {"Fees at 100% of the estimate"}  # % is a character
    assert titles("q=A_B") == {"Fees at 100% of the estimate"}
    assert titles("q=A%25B") == set()
    assert titles("q=DRAFT-ONLY") == set() and titles("q=WITHDRAWN") == set()
    assert "No bulletin matches" in client.get("/bulletins?q=nothing-like-this").text


def test_filter_by_category(app, client, auth, shelf):
    sign_in(auth, "committee1")
    board = main_part(client.get("/bulletins?category=delay").text)
    assert "Missed appeal deadline" in board and "典型案例" not in board
    board = main_part(client.get("/bulletins?category=fees&q=沟通").text)
    assert "典型案例" in board and "Missed appeal" not in board
    assert "Missed appeal" not in main_part(client.get("/bulletins?category=fees").text)
    # an unknown category is no filter at all
    board = main_part(client.get("/bulletins?category=%22%25").text)
    assert "Missed appeal deadline" in board and "典型案例" in board


def test_htmx_gets_the_list_alone_and_the_page_works_without_javascript(app, client, auth,
                                                                        shelf):
    sign_in(auth, "investigator")
    page = client.get("/bulletins?q=appeal").text
    assert '<form class="filters" method="get" action="/bulletins"' in page
    assert 'data-hx-target="#bulletin-list"' in page
    fragment = client.get("/bulletins?q=appeal", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="bulletin-list"')
    assert "<html" not in fragment.text and "Missed appeal deadline" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_twenty_a_page(app, client, auth):
    for n in range(23):
        add_bulletin(app, f"Bulletin number {n:02d}", age_minutes=100 - n)
    sign_in(auth, "investigator")
    first = main_part(client.get("/bulletins").text)
    second = main_part(client.get("/bulletins?page=2").text)
    shown = re.compile(r"Bulletin number (\d\d)")
    assert len(shown.findall(first)) == 20 and "Bulletin number 22" in first
    assert sorted(shown.findall(second)) == ["00", "01", "02"]
    assert "Page 1 of 2" in first and "/bulletins?page=2" in first
    assert client.get("/bulletins?page=5000000").status_code == 404


def test_nothing_on_the_board_names_the_complaint(app, client, auth):
    """committee2 is a respondent of the complaint: they read its bulletin like anyone else,
    and neither the board, the page nor the PDF says which complaint it was."""
    complaint_id = a_complaint(app, respondent="committee2")
    published = add_bulletin(app, "客户甲的典型案例", "律师乙未及时回复客户甲。")
    add_bulletin(app, "草稿", status=BulletinStatus.DRAFT, complaint_id=complaint_id)
    for username in ("committee2", "partner2"):
        sign_in(auth, username)
        for url in ("/bulletins", f"/bulletins/{published}"):
            html = main_part(client.get(url).text)
            assert "客户甲的典型案例" in html
            assert REFERENCE not in html and "/complaints/" not in html
            assert not re.search(r"李明|王磊|孙海燕|王律师|13800138000", html)
        text = pdftotext(client.get(f"/bulletins/{published}.pdf").data)
        assert REFERENCE not in text and "李明" not in text and "王磊" not in text
    sign_in(auth, "committee2")
    assert client.get(f"/complaints/{REFERENCE}").status_code == 404  # a respondent's own case


# -- drafts and withdrawn bulletins -------------------------------------------------------------

def test_partners_see_the_drafts_with_their_review_link_and_drafter(app, client, auth, shelf):
    sign_in(auth, "partner2")
    html = client.get("/bulletins").text
    drafts = html.split('id="bulletin-drafts"', 1)[1].split("</section>", 1)[0]
    assert "DRAFT-ONLY 草稿标题" in drafts
    assert f'href="/bulletins/{shelf["draft"]}/review"' in drafts
    assert "刘慧敏" in drafts  # who drafted it
    assert "WITHDRAWN-ONLY" not in html
    assert "DRAFT-ONLY" not in main_part(html).split('id="bulletin-list"', 1)[1]
    response = client.get(f"/bulletins/{shelf['draft']}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/bulletins/{shelf['draft']}/review")


def test_drafts_and_withdrawn_bulletins_are_not_found_for_others(app, client, auth, shelf):
    for username in ("investigator", "committee2", "reception"):
        sign_in(auth, username)
        for key in ("draft", "withdrawn"):
            assert client.get(f"/bulletins/{shelf[key]}").status_code == 404
            assert client.get(f"/bulletins/{shelf[key]}.pdf").status_code == 404
    sign_in(auth, "partner2")
    assert client.get(f"/bulletins/{shelf['withdrawn']}").status_code == 404
    assert client.get(f"/bulletins/{shelf['withdrawn']}.pdf").status_code == 404
    assert client.get(f"/bulletins/{shelf['draft']}.pdf").status_code == 404
    assert client.get("/bulletins/999999").status_code == 404


def test_a_partner_kept_out_of_the_complaint_does_not_see_its_draft(app, client, auth):
    complaint_id = a_complaint(app)
    draft = add_bulletin(app, "KEPT-OUT-DRAFT", status=BulletinStatus.DRAFT,
                         complaint_id=complaint_id)
    sign_in(auth, "partner")  # 陈志远, the matter's partner: kept out of the complaint
    assert "KEPT-OUT-DRAFT" not in client.get("/bulletins").text
    assert client.get(f"/bulletins/{draft}").status_code == 404
    sign_in(auth, "partner2")
    assert "KEPT-OUT-DRAFT" in client.get("/bulletins").text


# -- one bulletin and its PDF ------------------------------------------------------------------

def test_the_bulletin_page(app, client, auth, shelf):
    sign_in(auth, "investigator")
    html = main_part(client.get(f"/bulletins/{shelf['older']}").text)
    assert "Missed appeal deadline" in html and "March 2026" in html
    assert "Delay" in html and "Competence or diligence" in html
    assert "Lawyers Law art. 38" in html
    assert html.count('<p class="narrative">') == 2  # two paragraphs
    assert f'href="/bulletins/{shelf["older"]}.pdf"' in html
    assert "withdraw" not in html.lower()
    sign_in(auth, "partner2")
    html = main_part(client.get(f"/bulletins/{shelf['older']}").text)
    assert f'action="/bulletins/{shelf["older"]}/withdraw"' in html
    assert f'name="version" value="{version_of(app, shelf["older"])}"' in html


def test_the_pdf_is_marked_internal_on_every_page(app, client, auth, shelf):
    body = "\n\n".join(f"第{n}段：律师乙未在上诉期限内提交上诉状。" * 8 for n in range(30))
    long_one = add_bulletin(app, "长篇通报", body + "\n\nCLOSING-WORDS")
    sign_in(auth, "committee2")
    response = client.get(f"/bulletins/{shelf['newer']}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == (
        f"inline; filename=bulletin-{shelf['newer']}.pdf")
    text = pdftotext(response.data)
    assert "典型案例：沟通不畅" in text and "客户甲称律师乙三次未按约定时间回复。" in text
    assert "内部资料" in text and "Internal" in text
    assert "2026年3月" in text and "《律师执业行为规范》第9条" in text
    data = client.get(f"/bulletins/{long_one}.pdf").data
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode())[1])
    assert pages >= 2
    for page in range(1, pages + 1):
        assert "内部资料" in pdftotext(data, "-f", str(page), "-l", str(page)), page
    assert "CLOSING-WORDS" in pdftotext(data)


# -- withdrawing --------------------------------------------------------------------------------

def test_a_partner_withdraws_a_bulletin(app, client, auth, shelf):
    sign_in(auth, "partner2")
    bulletin_id = shelf["newer"]
    response = client.post(f"/bulletins/{bulletin_id}/withdraw",
                           data={"version": version_of(app, bulletin_id), "confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/bulletins")
    board = client.get("/bulletins").text
    assert "withdrawn: it is no longer on the board" in board
    assert "典型案例：沟通不畅" not in board
    assert client.get(f"/bulletins/{bulletin_id}").status_code == 404
    with app.app_context():
        bulletin = db.session.get(Bulletin, bulletin_id)
        assert bulletin.status == BulletinStatus.WITHDRAWN
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "bulletin.withdrawn", AuditEvent.object_id == str(bulletin_id)))
        assert event is not None and event.actor_id == user("partner2").id
    sign_in(auth, "investigator")
    assert "典型案例：沟通不畅" not in client.get("/bulletins").text


def test_withdrawing_through_htmx_redirects_to_the_board(app, client, auth, shelf):
    sign_in(auth, "partner2")
    response = client.post(f"/bulletins/{shelf['older']}/withdraw",
                           data={"version": version_of(app, shelf["older"]), "confirm": "y"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/bulletins"


def test_withdrawing_is_refused_to_non_partners_unconfirmed_and_stale(app, client, auth, shelf):
    bulletin_id = shelf["newer"]
    version = version_of(app, bulletin_id)
    for username in ("investigator", "committee1", "reception"):
        sign_in(auth, username)
        assert client.post(f"/bulletins/{bulletin_id}/withdraw",
                           data={"version": version, "confirm": "y"}).status_code == 403
    sign_in(auth, "partner2")
    unconfirmed = client.post(f"/bulletins/{bulletin_id}/withdraw", data={"version": version})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.text
    stale = client.post(f"/bulletins/{bulletin_id}/withdraw",
                        data={"version": version - 1, "confirm": "y"},
                        headers={"HX-Request": "true"})
    assert stale.status_code == 409
    assert stale.text.lstrip().startswith('<section class="card readable" id="bulletin-withdraw"')
    assert f'name="version" value="{version - 1}"' in stale.text  # reload to try again
    assert client.post(f"/bulletins/{shelf['draft']}/withdraw",
                       data={"version": 1, "confirm": "y"}).status_code == 404
    assert client.post(f"/bulletins/{shelf['withdrawn']}/withdraw",
                       data={"version": 2, "confirm": "y"}).status_code == 404
    with app.app_context():
        assert db.session.get(Bulletin, bulletin_id).status == BulletinStatus.PUBLISHED
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "bulletin.withdrawn")) is None


# -- cost ---------------------------------------------------------------------------------------

def test_the_board_costs_the_same_queries_for_3_and_for_30_bulletins(app, client, auth):
    from tests.web.test_query_counts import _counting

    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache
    sign_in(auth, "partner2")

    def grow(published: int, drafts: int, start: int) -> None:
        for n in range(published):
            add_bulletin(app, f"Published {start + n}", categories=("fees", "delay"),
                         age_minutes=n)
        for n in range(drafts):
            add_bulletin(app, f"Draft {start + n}", status=BulletinStatus.DRAFT,
                         creator="partner" if n % 2 else "partner2")

    def measure() -> dict[str, int]:
        counts = {}
        for url in ("/bulletins", "/bulletins?q=Published&category=fees", "/bulletins?page=2"):
            client.get(url)
            with _counting(app) as statements:
                assert client.get(url).status_code == 200
            counts[url] = len(statements)
        return counts

    grow(3, 2, 0)
    small = measure()
    grow(27, 8, 100)
    assert measure() == small
