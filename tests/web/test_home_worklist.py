"""The home page ("my work") lists what the viewer may see, filtered in SQL, with totals."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, Deadline, State, User
from tests.web.test_public_form import valid_form


def _registered(app, count: int, respondent: str, first_due: date, start: int) -> None:
    with app.app_context(), write_transaction():
        lawyer = db.session.scalar(select(User).where(User.name == respondent))
        for n in range(count):
            db.session.add(Complaint(
                state=State.REGISTERED, reference=f"TS-2026-{start + n:05d}",
                deadlines=[Deadline(kind="first_response", due=first_due + timedelta(days=n))],
                respondents=[lawyer],
                complainant=Client(name=f"客户{start + n}", phone="13800000000")))


def _registered_section(html: str) -> str:
    return html[html.index('id="reg-h"'):].split("</section>", 1)[0]


def test_a_respondent_still_sees_ten_items_and_how_many_more(client, auth, app):
    # 60 complaints about 刘慧敏 are due first; 12 others come after them.
    _registered(app, 60, "刘慧敏", date(2026, 1, 5), start=1)
    _registered(app, 12, "王磊", date(2026, 6, 1), start=100)
    auth.login_as("partner")  # partner2 = 刘慧敏
    section = _registered_section(client.get("/").text)
    shown = re.findall(r">(TS-2026-\d{5})<", section)
    assert len(shown) == 10
    assert all(int(ref[-5:]) >= 100 for ref in shown)  # none of their own cases
    assert "2 more: show all" in section
    auth.logout()
    auth.login("partner")  # another partner sees all 72, the earliest due first
    section = _registered_section(client.get("/").text)
    assert re.findall(r">(TS-2026-\d{5})<", section)[0] == "TS-2026-00001"
    assert "62 more: show all" in section


def test_online_submissions_wait_for_the_reception_desk(client, auth, app):
    assert client.post("/complaint", data=valid_form(lawyers="")).status_code == 303
    with app.app_context():
        label = db.session.scalar(select(Complaint)).label
    auth.login("partner")  # a partner who is not a receptionist
    home = client.get("/").text
    assert "Submissions to verify (online form and email)" not in home and f">{label}<" not in home
    assert f">{label}<" not in client.get("/complaints?state=to_verify").text
    assert client.get(f"/complaints/{label}").status_code == 404
    auth.logout()
    auth.login_as("receptionist")
    home = client.get("/").text
    assert "Submissions to verify (online form and email)" in home and f">{label}<" in home


def test_a_partner_sees_their_own_new_draft_but_not_a_colleagues_unsorted_one(
        client, auth, app):
    auth.login_as("receptionist")
    theirs = client.post("/complaints", data={"new-channel": "phone",
                                              "new-received_at": "2026-09-29T10:30"})
    theirs_key = theirs.headers["Location"].rsplit("/", 1)[-1]
    auth.logout()
    auth.login("partner")
    mine = client.post("/complaints", data={"new-channel": "phone",
                                            "new-received_at": "2026-09-29T10:30"})
    mine_key = mine.headers["Location"].rsplit("/", 1)[-1]
    assert client.get(f"/complaints/{mine_key}").status_code == 200
    assert client.get(f"/complaints/{theirs_key}").status_code == 404
    home = client.get("/").text
    assert f">{mine_key}<" in home and f">{theirs_key}<" not in home
