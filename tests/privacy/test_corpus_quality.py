"""The issue's quality bar on the corpus: no planted identity survives the engine, and at
least 90 % of the ordinary phrases do. Prints the figures (pytest -s) and what failed."""

from __future__ import annotations

from tests.privacy.quality import score


def test_no_identity_survives_and_ordinary_phrases_stay():
    result = score()
    print(result.summary())
    survivors = "\n".join(f"  {id_}: {text!r} ({kind})" for id_, text, kind in result.survivors)
    assert not result.survivors, f"{len(result.survivors)} identities survive:\n{survivors}"
    lost = "\n".join(f"  {id_}: {phrase!r}" for id_, phrase in result.lost)
    assert result.kept_share >= 0.90, f"only {result.kept_share:.1%} kept; lost:\n{lost}"
