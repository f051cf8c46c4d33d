"""Evidence downloads: the exact Content-Type and an RFC 6266 Content-Disposition."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.unit.test_intake_filetypes import PDF
from tests.web.test_intake_evidence import upload
from tests.web.test_intake_support import get, new_draft


def download(client, app, key: str):
    item = get(app, key).evidence[-1]
    response = client.get(f"/complaints/{key}/evidence/{item.id}")
    assert response.status_code == 200
    return item, response


def test_utf8_text_with_a_chinese_name(reception, app):
    key = new_draft(reception)
    assert upload(reception, key, "微信聊天记录".encode(), name="证据.txt").status_code == 200
    item, response = download(reception, app, key)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=evidence-{item.id}.txt; "
        "filename*=UTF-8''%E8%AF%81%E6%8D%AE.txt")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_gb18030_text_is_served_with_its_own_charset(reception, app):
    key = new_draft(reception)
    data = "投诉内容，GB18030 编码。".encode("gb18030")
    assert upload(reception, key, data, name="记录.txt").status_code == 200
    _item, response = download(reception, app, key)
    assert response.headers["Content-Type"] == "text/plain; charset=gb18030"
    assert response.data == data
    assert response.data.decode("gb18030") == "投诉内容，GB18030 编码。"


def test_an_ascii_name_needs_no_utf8_form(reception, app):
    key = new_draft(reception)
    upload(reception, key, PDF, name="contract-2026.pdf")
    _item, response = download(reception, app, key)
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=contract-2026.pdf"


@pytest.mark.parametrize(("name", "fallback"), [
    ("Résumé.pdf", "Resume.pdf"),
    ("Résumé 合同 v2.pdf", "evidence-{id}-Resume-v2.pdf"),
])
def test_a_mixed_name_keeps_its_latin_part_in_the_fallback(reception, app, name, fallback):
    key = new_draft(reception)
    upload(reception, key, PDF, name=name)
    item, response = download(reception, app, key)
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename={fallback.format(id=item.id)}; "
        f"filename*=UTF-8''{quote(name)}")


def test_a_chinese_name_with_the_wrong_extension_gets_the_real_one(reception, app):
    key = new_draft(reception)
    upload(reception, key, PDF, name="合同.html")
    item, response = download(reception, app, key)
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=evidence-{item.id}-html.pdf; "
        f"filename*=UTF-8''{quote('合同.html.pdf')}")
