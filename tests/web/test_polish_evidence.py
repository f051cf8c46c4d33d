"""Issue 7 §2: the kind of evidence is a choice the receptionist makes, never a default."""

from __future__ import annotations

import re

from tests.unit.test_intake_filetypes import PDF
from tests.web.test_intake_evidence import evidence_count, upload
from tests.web.test_intake_support import new_draft


def test_the_kind_of_evidence_starts_empty(reception):  # noqa: F811
    key = new_draft(reception)
    html = reception.get(f"/complaints/{key}").text
    select = re.search(r'<select[^>]*id="evidence-category".*?</select>', html, re.S).group(0)
    first = re.search(r"<option[^>]*>", select).group(0)
    assert 'value=""' in first
    assert "selected" not in first or 'value=""' in first
    assert len(re.findall(r"<option[^>]*selected", select)) <= 1
    assert not re.search(r'<option[^>]*value="engagement_contract"[^>]*selected', select)


def test_a_file_without_a_kind_is_refused_and_kept_out(reception, app):  # noqa: F811
    key = new_draft(reception)
    before = evidence_count(app)
    response = upload(reception, key, PDF, category="")
    assert response.status_code == 422
    assert "Choose what kind of evidence this is." in response.text
    assert 'aria-invalid="true"' in response.text
    assert evidence_count(app) == before
