"""Benchmark: the redaction engine's quality on the corpus and its speed.

    .venv/bin/python -m tests.bench.bench_redaction

Prints the planted identities caught (the issue requires all), the ordinary phrases kept
(at least 90 %) and the median time to redact a 5,000-character text over 20 runs after a
warm-up (under 200 ms, with jieba's dictionary loaded once). Exits 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import sys
import time

from portal.privacy import party_from_dict, redact, warm_up
from tests.privacy.corpus_loader import load_corpus
from tests.privacy.quality import score

MAX_MS = 200
MIN_KEPT = 0.90
LENGTH = 5_000


def sample() -> tuple[str, list]:
    """5,000 characters of corpus texts (Chinese, English and mixed) with all their parties."""
    texts = load_corpus()
    pieces, parties, length = [], [], 0
    while length < LENGTH:
        for item in texts:
            pieces.append(item.text)
            parties += [party_from_dict(p) for p in item.parties]
            length += len(item.text) + 1
            if length >= LENGTH:
                break
    return "\n".join(pieces)[:LENGTH], parties[:40]


def main() -> int:
    started = time.perf_counter()
    warm_up()
    print(f"warm-up (jieba's dictionary, pinyin tables): {time.perf_counter() - started:.2f} s")
    result = score()
    print(f"planted identities caught {result.caught}/{result.planted}")
    print(f"ordinary phrases kept {result.kept_share:.1%} ({result.kept}/{result.keep})")
    for id_, text, kind in result.survivors:
        print(f"  survives: {id_}: {text!r} ({kind})")
    text, parties = sample()
    redact(text, parties)
    timings = []
    for _ in range(20):
        began = time.perf_counter()
        redact(text, parties)
        timings.append((time.perf_counter() - began) * 1000)
    median = statistics.median(timings)
    print(f"redact a {len(text):,}-character text with {len(parties)} parties: "
          f"median {median:.0f} ms of 20 (target < {MAX_MS} ms)")
    missed = result.survivors or result.kept_share < MIN_KEPT or median >= MAX_MS
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
