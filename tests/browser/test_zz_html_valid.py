"""The Nu Html Checker, once for every page the browser tests kept with check_html/check_page.

Runs last (tests/browser/conftest.py moves it to the end): one JVM start for the whole session.
"""

import pytest

from tests.browser.helpers import HTML


def test_every_page_seen_is_valid_html():
    if not HTML.sources:
        pytest.skip("no page was collected (run together with the browser tests)")
    problems = HTML.validate()
    assert not problems, (
        f"{len(problems)} distinct Nu Html Checker error(s); snapshots in {HTML.directory}:\n"
        + "\n".join(problems[:30])
    )
