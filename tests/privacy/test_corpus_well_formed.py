"""The redaction corpus is well formed: no engine needed, only the JSON files."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.privacy.corpus_loader import (
    CORPUS_DIR,
    KINDS,
    LANGS,
    PARTY_FIELDS,
    ROLES,
    load_corpus,
    luhn_ok,
    occurrences,
    valid_prc_id,
)

CORPUS = load_corpus()
IDS = [t.id for t in CORPUS]
TOP_KEYS = {"id", "lang", "text", "parties", "planted", "keep"}


def _digits(s: str) -> str:
    d = re.sub(r"\D", "", s)
    return d[2:] if s.strip().startswith("+86") else d


def test_prc_id_helper_knows_good_and_bad():
    assert valid_prc_id("11010519491231002X")
    assert valid_prc_id("11010519491231002x")
    assert not valid_prc_id("110105194912310021")  # wrong check digit
    assert not valid_prc_id("110105194902300027")  # 30 February
    assert not valid_prc_id("11010519491231002")  # 17 characters


def test_luhn_helper_knows_good_and_bad():
    assert luhn_ok("4111 1111 1111 1111")
    assert luhn_ok("79927398713")
    assert not luhn_ok("4111 1111 1111 1112")
    assert not luhn_ok("6222-02l0")


def test_counts():
    assert len(CORPUS) >= 60
    assert {t.lang for t in CORPUS} == set(LANGS)
    unrecorded = [
        t.id
        for t in CORPUS
        if any(not p.recorded and p.kind in ("person", "organisation") for p in t.planted)
    ]
    assert len(unrecorded) >= 20
    kinds = Counter(p.kind for t in CORPUS for p in t.planted)
    assert set(kinds) == set(KINDS)


def test_ids_unique_and_match_file_names():
    assert len(IDS) == len(set(IDS))
    for t in CORPUS:
        assert re.fullmatch(r"\d{3}-[a-z0-9]+(-[a-z0-9]+)*", t.id), t.id
        assert t.path.name == f"{t.id}.json"
    assert len(list(CORPUS_DIR.glob("*.json"))) == len(CORPUS)


@pytest.mark.parametrize("path", sorted(CORPUS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_schema(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw) == TOP_KEYS
    assert isinstance(raw["id"], str)
    assert raw["lang"] in LANGS
    assert isinstance(raw["text"], str) and 80 <= len(raw["text"]) <= 600
    assert isinstance(raw["parties"], list) and raw["parties"]
    for party in raw["parties"]:
        assert isinstance(party, dict)
        assert party.get("role") in ROLES
        assert set(party) - {"role"} <= set(PARTY_FIELDS)
        assert set(party) - {"role"}, "a party with nothing but a role"
        for field in set(party) - {"role", "aliases"}:
            assert isinstance(party[field], str) and party[field].strip()
        aliases = party.get("aliases", [])
        assert isinstance(aliases, list)
        assert all(isinstance(a, str) and a.strip() for a in aliases)
    assert isinstance(raw["planted"], list) and raw["planted"]
    for p in raw["planted"]:
        assert set(p) == {"text", "kind", "recorded"}
        assert isinstance(p["text"], str) and p["text"].strip() == p["text"] != ""
        assert p["kind"] in KINDS
        assert isinstance(p["recorded"], bool)
    assert isinstance(raw["keep"], list) and raw["keep"]
    assert all(isinstance(k, str) and k.strip() == k != "" for k in raw["keep"])
    assert len(raw["keep"]) == len(set(raw["keep"]))
    assert len({p["text"] for p in raw["planted"]}) == len(raw["planted"])


@pytest.mark.parametrize("t", CORPUS, ids=IDS)
def test_every_phrase_occurs_and_keep_never_overlaps_planted(t):
    planted_spans = []
    for p in t.planted:
        spans = occurrences(t.text, p.text)
        assert spans, f"planted {p.text!r} not in text"
        planted_spans += spans
    for k in t.keep:
        spans = occurrences(t.text, k)
        assert spans, f"keep {k!r} not in text"
        for a, b in spans:
            for c, d in planted_spans:
                assert not (a < d and c < b), f"keep {k!r} overlaps a planted identity"


@pytest.mark.parametrize("t", CORPUS, ids=IDS)
def test_numbers_are_valid_and_recorded_flags_agree_with_parties(t):
    party_values = {
        field: {p[field] for p in t.parties if field in p}
        for field in ("phone", "email", "id_number")
    }
    for p in t.planted:
        if p.kind == "id_number":
            assert valid_prc_id(p.text), p.text
            assert (p.text in party_values["id_number"]) == p.recorded, p.text
        elif p.kind == "bank_card":
            assert 16 <= len(p.text.replace(" ", "")) <= 19 and luhn_ok(p.text), p.text
        elif p.kind == "licence":
            assert re.fullmatch(r"\d{17}", p.text), p.text
        elif p.kind == "passport":
            assert re.fullmatch(r"[A-Z]{1,2}\d{7,8}", p.text), p.text
        elif p.kind == "email":
            assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", p.text), p.text
            assert (p.text in party_values["email"]) == p.recorded, p.text
        elif p.kind == "phone":
            known = {_digits(v) for v in party_values["phone"]}
            assert (_digits(p.text) in known) == p.recorded, p.text
        elif p.kind in ("case_number", "date"):
            assert not p.recorded, "case numbers and dates are never in parties"
    for party in t.parties:
        if "id_number" in party:
            assert valid_prc_id(party["id_number"]), party["id_number"]
