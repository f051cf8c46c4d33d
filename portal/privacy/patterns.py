"""Identifiers found by their shape: phones, emails, ID, passport, bank card and licence
numbers, WeChat IDs and court case numbers. Every pattern runs on the width-folded text
(text.fold_width), so full-width digits and brackets are matched as ASCII."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from portal.privacy.spans import KEYWORD, STRUCTURED, Span

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*\s?(?:@|\[at\]|\(at\))\s?"
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z])")
MOBILE = re.compile(
    _NOT_ALNUM_BEFORE + r"(?:(?:\+|00)\s?86[\s-]?|\(\+?86\)\s?)?1[3-9]\d(?:[\s.-]?\d){8}"
    + _NOT_ALNUM_AFTER)
LANDLINE = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:(?:\+|00)\s?86[\s-]?\(?0?\d{2,3}\)?|\(0\d{2,4}\)|0\d{2,4})[\s.-]?\d{3,4}[\s.-]?\d{3,4}"
    r"(?:\s?(?:转|ext\.?|x)\s?\d{1,5})?" + _NOT_ALNUM_AFTER)
SERVICE_LINE = re.compile(_NOT_ALNUM_BEFORE + r"[48]00[\s-]?\d{3}[\s-]?\d{4}" + _NOT_ALNUM_AFTER)
INTERNATIONAL = re.compile(
    _NOT_ALNUM_BEFORE + r"(?:\+|00)[1-9]\d{0,2}[\s.-]?(?:\(0\)\s?)?\(?\d{1,5}\)?"
    r"(?:[\s.-]?\d{2,5}){1,4}" + _NOT_ALNUM_AFTER)
RESIDENT_ID = re.compile(
    _NOT_ALNUM_BEFORE + r"\d{6}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{3}[\dXx]" + _NOT_ALNUM_AFTER)
CARD = re.compile(_NOT_ALNUM_BEFORE + r"\d(?:[\s-]?\d){15,18}" + _NOT_ALNUM_AFTER)
LICENCE = re.compile(_NOT_ALNUM_BEFORE + r"\d{17}" + _NOT_ALNUM_AFTER)
PASSPORT = re.compile(
    _NOT_ALNUM_BEFORE + r"(?:E[A-HJ-NP-Z]\d{7}|[EGDSPKH]\d{8}|[EG]\s\d{4}\s?\d{4})"
    + _NOT_ALNUM_AFTER)
WECHAT = re.compile(
    r"(?i:(?<![A-Za-z])(?:微信号?|weixin|wechat|wx|vx|v信)(?:\s|[(:]|id\b|号码?|账号|is\b|是|为){0,5})"
    r"(?P<value>[A-Za-z][-_A-Za-z0-9]{5,19})" + _NOT_ALNUM_AFTER)
WECHAT_WXID = re.compile(r"(?<![A-Za-z0-9_])wxid_[A-Za-z0-9]{4,30}" + _NOT_ALNUM_AFTER)

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼兵"
CASE_BRACKETED = re.compile(
    r"(?:[\u4e00-\u9fff]{1,6}字\s*)?[(\[〔【]\s*(?:19|20)\d{2}\s*[)\]〕】]\s*"
    r"[\u4e00-\u9fff]{0,6}?\s*\d{0,6}\s*[\u4e00-\u9fff]{0,6}?\s*第?\s*\d{1,7}\s*号"
    r"(?:之[一二三四五六七八九十\d]+)?")
CASE_BARE = re.compile(
    rf"(?<!\d)(?:19|20)\d{{2}}\s*(?:最高法|[{_PROVINCES}])\s*\d{{2,6}}\s*"
    r"[\u4e00-\u9fff]{1,4}?\s*\d{1,7}\s*号")
CASE_ENGLISH = re.compile(
    r"\(\s*(?:19|20)\d{2}\s*\)\s*(?:[A-Z][a-z]*\.?[\s-]*){1,4}(?:\d{1,6}[\s-]*)?"
    r"(?:[A-Z][a-z]*\.?[\s-]*){0,4}?(?:No\.?|Number|#)\s*\d{1,7}(?:\s*Hao)?"
    r"|\(\s*(?:19|20)\d{2}\s*\)\s*(?:[A-Z][a-z]*[\s-]*){1,3}\d{2,6}[\s-]*"
    r"(?:[A-Z][a-z]*[\s-]*){1,4}\d{1,7}(?:\s*Hao)?")

# "身份证号：…", "account no. …": whatever number follows is that kind, whatever its shape.
_KEYWORDS = (
    ("id_number", r"身份证(?:号码|号)?|公民身份号码|证件号码?|"
                  r"ID\s*(?:card\s*)?(?:no\.?|number)|identity\s+card(?:\s+(?:no\.?|number))?"),
    ("passport", r"护照(?:号码|号)?|passport(?:\s*(?:no\.?|number))?"),
    ("bank_card", r"银行卡号?|卡号|银行账号|账号|帐号|账户|帐户|收款账户|"
                  r"(?:bank\s+)?account(?:\s*(?:no\.?|number))?|card\s*(?:no\.?|number)"),
    ("licence", r"执业证(?:书)?(?:号码|编号|号)?|律师证号?|licen[cs]e(?:\s*(?:no\.?|number))?"),
    ("phone", r"电话(?:号码)?|手机(?:号码|号)?|联系方式|座机|固话|热线|传真|"
              r"tel\.?|phone(?:\s*(?:no\.?|number))?|mobile|cell|fax"),
    ("case_number", r"案号|case\s*(?:no\.?|number)|file\s*(?:no\.?|number)"),
)
KEYWORDED = re.compile(
    "(?<![A-Za-z])(?i:" + "|".join(f"(?P<{kind}>{words})" for kind, words in _KEYWORDS) + ")"
    + r"\s*(?:[:是为#]|is)?\s*(?:[:是为#]\s*)?"
    + r"(?P<value>\+?\(?[A-Za-z]{0,3}\d[0-9A-Za-z()]*(?:[\s./-]\(?\d[0-9A-Za-z()]*)*)")

# Fewer digits than this after the keyword is an amount or a count, not an identifier.
_KEYWORD_MIN_DIGITS = {"passport": 6, "case_number": 4}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


def valid_resident_id(value: str) -> bool:
    """The PRC ID's MOD 11-2 check digit (GB 11643) and a plausible birth date."""
    code = "".join(char for char in value if char.isalnum()).upper()
    if len(code) != 18 or not code[:17].isdigit():
        return False
    month, day = int(code[10:12]), int(code[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31 and code[6:8] in ("18", "19", "20")):
        return False
    total = sum(int(char) * weight for char, weight in zip(code, _ID_WEIGHTS, strict=False))
    return "10X98765432"[total % 11] == code[17]


def luhn(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _matches(pattern: re.Pattern[str], text: str, kind: str, rank: int,
             accept: Callable[[str], bool] = lambda _: True,
             group: str | int = 0) -> Iterator[Span]:
    for match in pattern.finditer(text):
        value = match.group(group)
        if accept(value):
            yield Span(match.start(group), match.end(group), kind, rank)


def _phone_digits(value: str) -> bool:
    return 7 <= len(digits(value)) <= 15


def structured_spans(text: str) -> list[Span]:
    """Every identifier of a known shape in `text` (already width-folded)."""
    found: list[Span] = []
    found += _matches(EMAIL, text, "email", STRUCTURED + 4)
    found += _matches(RESIDENT_ID, text, "id_number", STRUCTURED + 3, valid_resident_id)
    found += _matches(LICENCE, text, "licence", STRUCTURED + 2)
    found += _matches(PASSPORT, text, "passport", STRUCTURED + 2)
    found += _matches(CARD, text, "bank_card", STRUCTURED + 1, lambda v: luhn(digits(v)))
    for pattern in (CASE_BRACKETED, CASE_BARE, CASE_ENGLISH):
        found += _matches(pattern, text, "case_number", STRUCTURED + 1)
    for pattern in (MOBILE, LANDLINE, SERVICE_LINE, INTERNATIONAL):
        found += _matches(pattern, text, "phone", STRUCTURED, _phone_digits)
    found += _matches(WECHAT, text, "wechat", STRUCTURED + 4, group="value")
    found += _matches(WECHAT_WXID, text, "wechat", STRUCTURED + 4)
    found += _keyworded(text)
    return found


def _keyworded(text: str) -> Iterator[Span]:
    for match in KEYWORDED.finditer(text):
        value = match.group("value").rstrip("(").rstrip()
        if value.count("(") != value.count(")"):
            value = value.rstrip(")")
        kind = next(kind for kind, _ in _KEYWORDS if match.group(kind))
        if len(digits(value)) < _KEYWORD_MIN_DIGITS.get(kind, 7):
            continue
        start = match.start("value")
        yield Span(start, start + len(value), kind, KEYWORD)
