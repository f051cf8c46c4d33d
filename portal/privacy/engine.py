"""redact(): collect what every detector found, settle overlaps, give labels, build the text."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import replace

from portal.privacy.addresses import address_spans
from portal.privacy.aliases import alias_spans
from portal.privacy.dates import date_spans
from portal.privacy.labels import entity_label, kind_label
from portal.privacy.latin_people import latin_people
from portal.privacy.model import MAX_CHARS, Party, Redaction, Replacement, TextTooLong
from portal.privacy.names import PartyNames, party_names
from portal.privacy.organisations import found_organisations, organisation_spans
from portal.privacy.patterns import structured_spans
from portal.privacy.people import chinese_people
from portal.privacy.recorded import detail_spans, name_spans
from portal.privacy.segmentation import segment
from portal.privacy.spans import Span
from portal.privacy.text import choose_language, fold_width


def redact(text: str, parties: Sequence[Party] = (), *, language: str | None = None) -> Redaction:
    """The text with every identity replaced; offsets in the replacements are the input's."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    if len(text) > MAX_CHARS:
        raise TextTooLong(len(text))
    language = _language(language, text)
    if not text.strip():
        return Redaction(text, ())
    folded = fold_width(text)  # same length: every offset in `folded` is one in `text`
    segmentation = segment(folded)
    names = party_names(parties)
    spans = [
        *structured_spans(folded),
        *detail_spans(folded, parties),
        *name_spans(folded, segmentation, names),
        *address_spans(folded, segmentation),
        *chinese_people(folded, segmentation),
        *latin_people(folded),
        *organisation_spans(folded, segmentation, found_organisations(folded, segmentation)),
        *date_spans(folded),
    ]
    chosen = settle_overlaps(spans)
    aliases = alias_spans(folded, chosen)
    if aliases:
        chosen = settle_overlaps(spans + aliases)
    _identify(chosen, names)
    return _build(text, chosen, language)


def _language(language: str | None, text: str) -> str:
    if language is None:
        return choose_language(text)
    code = language.lower().replace("-", "_")
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    raise ValueError("language must be zh or en")


def settle_overlaps(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans by start. The longest wins, then the more specific detector.

    A strong span (recorded or structured) that only partly overlaps a winner widens it
    instead of being lost, so no part of a certain identity survives; a weak one is dropped.
    """
    chosen: list[Span] = []
    starts: list[int] = []
    spans = [replace(span) for span in spans]  # merging widens spans: keep the callers' own
    for span in sorted(spans, key=lambda s: (-s.length, -s.rank, s.start)):
        if span.length <= 0:
            continue
        index = bisect.bisect_right(starts, span.start)
        first = index - 1 if index and chosen[index - 1].end > span.start else index
        last = index
        while last < len(chosen) and chosen[last].start < span.end:
            last += 1
        overlapping = chosen[first:last]
        if not overlapping:
            chosen.insert(index, span)
            starts.insert(index, span.start)
            continue
        if not span.strong:
            continue
        if all(o.start <= span.start and span.end <= o.end for o in overlapping[:1]) \
                and len(overlapping) == 1:
            continue  # inside a winner already
        winner = max(overlapping, key=lambda o: o.length)
        winner.start = min(span.start, overlapping[0].start)
        winner.end = max(span.end, overlapping[-1].end)
        chosen[first:last] = [winner]
        starts[first:last] = [winner.start]
    return chosen


def _identify(spans: list[Span], names: PartyNames) -> None:
    """Give every person or organisation span its entity and role."""
    for span in spans:
        if span.entity.startswith("org:") and span.entity not in names.roles:
            # Hangzhou Yunfan Data Technology Co., Ltd. is the recorded 杭州云帆数据科技
            brand = next((w for w in re.findall(r"[a-z]+", span.entity) if w in names.brands), "")
            span.entity = names.brands.get(brand, span.entity)
        if span.entity:
            span.entity = names.aliases.get(span.entity, span.entity)
            span.role = names.roles.get(span.entity, span.role)
    _join_reversed(spans)
    full: dict[str, set[str]] = {}
    for span in spans:
        if span.entity.startswith("found:") and not span.entity.endswith(":"):
            full.setdefault(span.entity.rsplit(":", 1)[0] + ":", set()).add(span.entity)
    for span in spans:  # 张先生 is the 张伟 of the same text when he is the only 张
        if span.entity in full and len(full[span.entity]) == 1:
            span.entity = next(iter(full[span.entity]))
    first_mention: dict[str, int] = {}
    for span in spans:
        if span.entity and not span.candidates:
            first_mention.setdefault(span.entity, span.start)
    recent: dict[str, int] = {}
    for span in spans:
        if span.candidates:
            span.entity = _choose(span, names, recent, first_mention)
            span.role = names.roles[span.entity]
        if span.entity:
            recent[span.entity] = span.start


def _join_reversed(spans: list[Span]) -> None:
    """Zhang Wei and Wei Zhang in one text are one person, not 张伟 and 魏章."""
    keys = {span.entity for span in spans if span.entity.startswith("found:")}
    for span in spans:
        _, surname, given = (span.entity.split(":") + ["", ""])[:3] \
            if span.entity.startswith("found:") else ("", "", "")
        reverse = f"found:{given}:{surname}"
        if given and reverse in keys and reverse != span.entity:
            first = min((s for s in spans if s.entity in (reverse, span.entity)),
                        key=lambda s: s.start)
            keys.discard(span.entity if first.entity == reverse else reverse)
            span.entity = first.entity


def _choose(span: Span, names: PartyNames, recent: dict[str, int],
            first_mention: dict[str, int]) -> str:
    """A shared surname (王先生 with two 王 recorded): the role its title names, then whoever
    was named last before it, then whoever is named first after it, then the first party."""
    candidates = list(span.candidates)
    if span.hint:
        matching = [c for c in candidates if names.roles.get(c) == span.hint]
        candidates = matching or candidates
    before = [c for c in candidates if c in recent]
    if before:
        return max(before, key=lambda c: recent[c])
    after = [c for c in candidates if c in first_mention]
    if after:
        return min(after, key=lambda c: first_mention[c])
    return min(candidates, key=lambda c: int(c.split(":")[1]) if c[6:].isdigit() else 0)


# The word a label starts with, when the text already says it before the name (客户徐建华,
# the client Xu Jianhua): it joins the replacement, so the text reads 客户甲, not 客户客户甲.
_ROLE_WORDS = {
    "zh": {"client": "客户", "lawyer": "律师", "staff": "职员", "other": "第三人"},
    "en": {"client": "client ", "lawyer": "lawyer ", "staff": "staff ", "other": "third party "},
}


def _absorb_role_word(text: str, span: Span, floor: int, language: str) -> None:
    word = _ROLE_WORDS[language].get(span.role)
    if not word or span.kind != "person":
        return
    start = span.start - len(word)
    if start >= floor and text[start:span.start].lower() == word \
            and (language == "zh" or start == 0 or not text[start - 1].isalpha()):
        span.start = start


def _build(text: str, spans: list[Span], language: str) -> Redaction:
    labels: dict[str, str] = {}
    pieces: list[str] = []
    replacements: list[Replacement] = []
    position = 0
    for span in spans:
        if span.entity:
            _absorb_role_word(text, span, position, language)
            if span.entity not in labels:
                labels[span.entity] = entity_label(span.role or "other", len(labels), language)
            label = labels[span.entity]
        elif span.label:
            label = span.label
        else:
            label = kind_label(span.kind, language)
        pieces += [text[position:span.start], label]
        replacements.append(Replacement(span.start, span.end, span.kind, label))
        position = span.end
    pieces.append(text[position:])
    return Redaction("".join(pieces), tuple(replacements))
