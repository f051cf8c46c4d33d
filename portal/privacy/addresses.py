"""Street addresses, Chinese and English, and the addresses parties recorded.

Chinese: an anchor (a road, street or lane with a house number, a building with a room, a
village group) is widened left over the place words before it (province, city, district,
estate), never over a verb or a preposition, and right over building, unit, floor and room.
A place name alone (杭州, 西湖区) is not an address and stays.
English: a house number, a capitalised street name and a street word, with a flat or room
before it and a district, city or postcode after it; UK postcodes on their own."""

from __future__ import annotations

import re

from portal.privacy.segmentation import Segmentation
from portal.privacy.spans import ADDRESS, Span
from portal.privacy.text import words

_NUM = r"[0-9一二三四五六七八九十百零〇]+"
_ROAD = r"(?:大道|大街|公路|胡同|路|街|巷|弄|道|里)"
_BUILDING = r"(?:号楼|栋|幢|座|单元|层|楼|室|房间|房|号|弄)"
ZH_ANCHORS = (
    re.compile(rf"{_ROAD}\s*{_NUM}\s*(?:号|弄|栋|幢)"),
    re.compile(r"[0-9A-Za-z]+\s*(?:号楼|栋|幢|座)\s*(?:[0-9A-Za-z]+\s*(?:单元|座|层|楼)\s*)*"
               r"(?:[0-9A-Za-z]+\s*(?:室|房|号)?)?"),
    re.compile(rf"{_NUM}\s*(?:单元)\s*{_NUM}\s*(?:室|号)?"),
    re.compile(r"(?<![0-9])[0-9]{2,5}\s*室"),
    re.compile(rf"(?:村|社区)\s*{_NUM}\s*(?:组|号)(?:\s*{_NUM}\s*号)?"),
)
ZH_TAIL = re.compile(
    rf"\s*(?:[-0-9A-Za-z一二三四五六七八九十]+\s*{_BUILDING}|"
    r"[A-Za-z\u4e00-\u9fff]{1,8}?(?:大厦|大楼|广场|中心|花园|小区|公寓|家园|新村|苑|城|园|庭|府|阁))")
# Words that end a place name: widening left accepts them whatever jieba's tag.
_PLACE_ENDINGS = tuple("省市区县镇乡村路街道巷弄园城苑庄湾桥港岛坊营屯寨里坪塘楼厦场座栋幢室号")
# Widening left stops at these tags (verbs, prepositions, pronouns, particles, punctuation).
_STOP_TAGS = words("v vd vn p c r u uj ul uz ud ug uv y e o x d ad")
_MAX_LEFT = 30

_STREET = (r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Close|Court|"
           r"Place|Square|Terrace|Crescent|Gardens|Mews|Row|Walk|Alley|Highway|Parkway|"
           r"Lu|Jie|Dadao|Hutong|Xiang|Nong)\b\.?")
_UNIT = (r"(?:Flat|Apartment|Apt|Unit|Room|Rm|Suite|Floor|Building|Bldg|Block|Tower)\.?\s*"
         r"[0-9A-Z]+\w*,?\s*")
POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
EN_ADDRESS = re.compile(
    rf"(?:{_UNIT}){{0,3}}(?:No\.?\s*)?\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?,?\s+"
    rf"(?:[A-Z][A-Za-z'’-]*\s+){{1,4}}{_STREET}"
    rf"(?:,?\s*(?:[A-Z][a-z]+\s+){{0,3}}(?:District|City|Province|County|Town|Borough|New Area|"
    rf"Zone|Village|Town)\b)*(?:,\s*[A-Z][a-z]+)?(?:,?\s*{POSTCODE}\b)?")
EN_POSTCODE = re.compile(rf"\b{POSTCODE}\b")


def address_spans(text: str, segmentation: Segmentation) -> list[Span]:
    spans = [Span(m.start(), m.end(), "address", ADDRESS) for m in EN_ADDRESS.finditer(text)]
    spans += (Span(m.start(), m.end(), "address", ADDRESS) for m in EN_POSTCODE.finditer(text)
              if _postcode_like(m.group()))
    if segmentation.tokens:
        for pattern in ZH_ANCHORS:
            for match in pattern.finditer(text):
                index = segmentation.index_containing(match.start())
                if index is not None and segmentation.tokens[index].flag in _STOP_TAGS:
                    continue  # 知道3号: the 道 of a verb is no road
                start = _widen_left(match.start(), segmentation)
                end = _widen_right(text, match.end())
                spans.append(Span(start, end, "address", ADDRESS))
    return spans


def _postcode_like(value: str) -> bool:
    """SW1A 1AA and EC2V 7HH, but not model numbers like A4 5BB without a space."""
    return " " in value


def _widen_left(start: int, segmentation: Segmentation) -> int:
    index = segmentation.index_containing(start)
    if index is None:
        return start
    tokens = segmentation.tokens
    first = tokens[index].start  # the road name the anchor's 路 belongs to
    earliest = first
    index -= 1
    while index >= 0 and first - tokens[index].start <= _MAX_LEFT:
        token = tokens[index]
        if token.flag in _STOP_TAGS and not token.word.endswith(_PLACE_ENDINGS):
            break
        first = token.start
        if token.flag in ("ns", "m", "eng") or token.word.endswith(_PLACE_ENDINGS):
            earliest = first  # widen only as far as the last word that names a place
        index -= 1
    return earliest


def _widen_right(text: str, end: int) -> int:
    for _ in range(6):
        match = ZH_TAIL.match(text, end)
        if not match:
            break
        end = match.end()
    return end


def recorded_address_spans(text: str, address: str) -> list[Span]:
    """A party's recorded address verbatim, and its tail once the province or city is cut."""
    forms = {address}
    for marker in ("省", "自治区", "市", "区", "县"):
        cut = address.find(marker)
        if cut > 0 and len(address) - cut > 6:
            forms.add(address[cut + len(marker):])
    spans: list[Span] = []
    for form in forms:
        if len(form.strip()) < 5:
            continue
        pattern = re.compile(r"\s*".join(re.escape(part) for part in form.split()), re.I)
        spans += (Span(m.start(), m.end(), "address", ADDRESS + 5) for m in pattern.finditer(text))
    return spans
