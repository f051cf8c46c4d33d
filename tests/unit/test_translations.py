"""Every catalogue is complete: no untranslated or fuzzy entry, and placeholders match."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_catalogue_is_complete(locale):
    problems = []
    for message in catalogue(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_placeholders_survive_translation(locale):
    for message in catalogue(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= expected | {"num"}, message.id


def test_every_string_in_the_source_is_in_the_catalogues(tmp_path):
    """Extract afresh: a string added to the code without `flask translate update` fails."""
    import subprocess
    import sys

    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
         "translations/babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        check=True, cwd=TRANSLATIONS.parent, capture_output=True,
    )
    with open(pot, "rb") as handle:
        template = read_po(handle)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for locale in ("zh_CN", "en"):
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(locale) if m.id}
        assert ids <= have, sorted(ids - have)[:20]
