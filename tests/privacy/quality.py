"""Scoring the redaction engine on the corpus (tests/privacy/corpus/README.md, "Scoring"):
shared by the quality test and `make bench`."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.privacy import party_from_dict, redact
from tests.privacy.corpus_loader import CorpusText, load_corpus


@dataclass
class Score:
    planted: int = 0
    caught: int = 0
    keep: int = 0
    kept: int = 0
    survivors: list[tuple[str, str, str]] = field(default_factory=list)  # (id, text, kind)
    lost: list[tuple[str, str]] = field(default_factory=list)  # (id, keep phrase)

    @property
    def kept_share(self) -> float:
        return self.kept / self.keep if self.keep else 1.0

    def summary(self) -> str:
        return (f"planted identities caught {self.caught}/{self.planted}, "
                f"ordinary phrases kept {self.kept}/{self.keep} ({self.kept_share:.1%})")


def score(texts: list[CorpusText] | None = None) -> Score:
    result = Score()
    for item in texts if texts is not None else load_corpus():
        parties = [party_from_dict(party, index=i) for i, party in enumerate(item.parties)]
        output = redact(item.text, parties).text
        for planted in item.planted:
            result.planted += 1
            if planted.text in output:
                result.survivors.append((item.id, planted.text, planted.kind))
            else:
                result.caught += 1
        for phrase in item.keep:
            result.keep += 1
            if phrase in output:
                result.kept += 1
            else:
                result.lost.append((item.id, phrase))
    return result
