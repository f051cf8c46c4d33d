"""Issue 7 §2: the registered record's box says each thing once, in Chinese and in English,
and shows the note given with a confirmation that did not match the channel."""

from __future__ import annotations

import re

import pytest

from tests.web.test_intake_support import HX, complete_draft, confirm_in_person, get


def _box(html: str) -> str:
    box = html[html.index('<section id="intake-actions"'):]
    return box[:box.index("</section>")]


def _words(html: str) -> list[str]:
    return [w.strip() for w in re.split(r"<[^>]+>", html) if w.strip()]


@pytest.mark.parametrize(("locale", "state", "date_label"),
                         [("zh_CN", "已登记", "登记时间"), ("en", "Registered", "Registered on")])
def test_the_registration_box_says_each_label_once(reception, app, locale, state, date_label):
    key = complete_draft(reception, app)
    confirm_in_person(reception, app, key)
    assert reception.post(f"/complaints/{key}/register", headers=HX).status_code == 200
    reception.post("/language", data={"locale": locale})
    words = _words(_box(reception.get(f"/complaints/{get(app, key).reference}").text))
    assert words.count(state) == 1, words
    assert all(a != b for a, b in zip(words, words[1:], strict=False)), words
    if locale == "en":  # the Chinese label arrives with the catalogue merge
        assert date_label in words
    assert "客户次日来所当面确认" in words  # the note confirm_in_person gave
