"""Exact dates coarsened to the month: 2023年3月15日 -> 2023年3月, 15 March 2023 ->
March 2023, 2023-03-15 -> 2023-03, 3月15日 -> 3月. Runs on the width-folded text."""

from __future__ import annotations

import re

from portal.privacy.spans import DATE, Span

_CN_DIGIT = "〇零一二三四五六七八九"
_CN_MONTH = r"\d{1,2}|十[一二]?|[一二三四五六七八九]"
_CN_DAY = (r"\d{1,2}|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九]|"
           r"廿[一二三四五六七八九]?|卅一?")
ZH_FULL = re.compile(
    rf"(?P<keep>(?:\d{{4}}|[{_CN_DIGIT}]{{4}})\s*年\s*(?:{_CN_MONTH})\s*月)\s*(?:{_CN_DAY})\s*[日号]")
ZH_MONTH_DAY = re.compile(
    rf"(?<![\d年{_CN_DIGIT}十])(?P<keep>(?:{_CN_MONTH})\s*月)\s*(?:{_CN_DAY})\s*[日号]"
    r"(?![楼栋室])")
ISO = re.compile(
    r"(?<![\d.:/-])(?P<keep>(?:19|20)\d{2}(?P<sep>[-/.])(?:0?[1-9]|1[0-2]))"
    r"(?P=sep)(?:0?[1-9]|[12]\d|3[01])(?![\d.:/-]|-\d)")
DAY_FIRST = re.compile(
    r"(?<![\d.:/-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>(?:19|20)\d{2})"
    r"(?![\d.:/-])")

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Sept|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
_ORDINAL = r"(?:st|nd|rd|th)?"
DAY_MONTH_YEAR = re.compile(
    rf"\b(?:[0-2]?\d|3[01]){_ORDINAL}\s+(?:of\s+)?(?P<month>{_MONTHS})\b\.?,?\s+(?P<year>\d{{4}})\b")
MONTH_DAY_YEAR = re.compile(
    rf"\b(?P<month>{_MONTHS})\b\.?\s+(?:[0-2]?\d|3[01]){_ORDINAL}\b,?\s+(?P<year>\d{{4}})\b")
DAY_MONTH = re.compile(rf"\b(?:[0-2]?\d|3[01]){_ORDINAL}\s+(?:of\s+)?(?P<month>{_MONTHS})\b")
MONTH_DAY = re.compile(rf"\b(?P<month>{_MONTHS})\b\.?\s+(?:[0-2]?\d|3[01]){_ORDINAL}\b(?![:.]\d)")


def date_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for pattern in (ZH_FULL, ZH_MONTH_DAY, ISO):
        spans += (Span(m.start(), m.end(), "date", DATE, label=m.group("keep"))
                  for m in pattern.finditer(text))
    for match in DAY_FIRST.finditer(text):
        first, second = int(match.group("a")), int(match.group("b"))
        if first == 0 or second == 0 or (first > 12 and second > 12) or max(first, second) > 31:
            continue
        # Day first unless the first number cannot be a day-of-month but the second can.
        month = match.group("a") if second > 12 else match.group("b")
        label = f"{month}{match.group('sep')}{match.group('year')}"
        spans.append(Span(match.start(), match.end(), "date", DATE, label=label))
    for pattern in (DAY_MONTH_YEAR, MONTH_DAY_YEAR):
        spans += (Span(m.start(), m.end(), "date", DATE,
                       label=f"{m.group('month')} {m.group('year')}")
                  for m in pattern.finditer(text))
    for pattern in (DAY_MONTH, MONTH_DAY):
        spans += (Span(m.start(), m.end(), "date", DATE, label=m.group("month"))
                  for m in pattern.finditer(text))
    return spans
