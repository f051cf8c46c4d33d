"""Names given in brackets right after an organisation or a person: 深圳启航跨境电商有限公司
（Shenzhen Qihang Cross-border E-commerce Co., Ltd.，简称 Qihang）, 某某科技（以下简称“某某”）,
Hangzhou Yunfan Data Technology Co., Ltd. (Yunfan Data), 徐建华（又名 Jack Xu）. Each name
in the brackets is the same entity, wherever else it appears."""

from __future__ import annotations

import re

from portal.privacy.chinese import is_cjk
from portal.privacy.spans import Span

BRACKETS = re.compile(r"\s*[(（]([^()（）]{2,80})[)）]")
_SPLIT = re.compile(
    r",\s*(?=(?:以下)?简称|下称|又名|别名|hereinafter|also known as|aka\b)|[;、]|,(?=\S)")
_MARKER = re.compile(r"^\s*(?:以下简称|简称|下称|又名|别名|化名|hereinafter(?: referred to as)?|"
                     r"also known as|aka|the)\s*[:：]?\s*", re.I)
_QUOTES = "\"'“”‘’「」《》 "
_PERSON_MARKER = re.compile(r"又名|别名|化名|also known as|aka\b", re.I)
_LATIN_NAME = re.compile(r"[A-Z][\w&'’.-]*(?:\s+(?:[A-Z][\w&'’.,-]*|&|and|of)){0,7}")


def bracketed_names(text: str, span: Span) -> list[str]:
    """The names in the brackets right after the span (an organisation or a person)."""
    match = BRACKETS.match(text, span.end)
    if not match:
        return []
    content = match.group(1)
    if span.kind == "person" and not _PERSON_MARKER.search(content):
        return []  # 徐建华（客户）: a role, not a name
    names = []
    for part in _SPLIT.split(content):
        name = _MARKER.sub("", part).strip(_QUOTES).strip()
        if _looks_like_name(name):
            names.append(name)
    return names


def _looks_like_name(name: str) -> bool:
    if all(is_cjk(char) for char in name):
        return 2 <= len(name) <= 12
    return bool(_LATIN_NAME.fullmatch(name)) and len(name) >= 3


def alias_spans(text: str, chosen: list[Span]) -> list[Span]:
    """Every occurrence of every bracketed name, as the entity before the brackets."""
    spans: list[Span] = []
    for span in chosen:
        if span.kind not in ("person", "organisation") or not (span.entity or span.candidates):
            continue
        for name in bracketed_names(text, span):
            flags = 0 if is_cjk(name[0]) else re.I
            pattern = re.compile(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", flags)
            spans += (Span(m.start(), m.end(), span.kind, span.rank, entity=span.entity,
                           role=span.role, candidates=span.candidates, hint=span.hint)
                      for m in pattern.finditer(text))
    return spans
