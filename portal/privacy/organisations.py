"""Organisation names and their short forms, recorded or found in the text.

上海某某科技有限公司 is also written 某某科技, 某某科技公司 and 某某: the region before the
name, the legal form after it and then the trade after the brand are cut in turn. English
names lose Ltd, Co., LLP, Inc. and the like. Organisations nobody recorded are found where a
legal form (有限公司, 集团, 律师事务所, Ltd, LLP …) follows a name."""

from __future__ import annotations

import functools
import re

from portal.privacy.chinese import ROLE_NOUNS, is_cjk
from portal.privacy.segmentation import Segmentation, Token, segment, word_frequency
from portal.privacy.spans import FOUND, Span
from portal.privacy.text import words

ZH_FORMS = ("集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司",
            "集团公司", "总公司", "分公司", "律师事务所", "会计师事务所", "事务所", "集团", "公司",
            "工作室", "商行", "律所")
_PARTNERSHIP = re.compile(r"[(（](?:特殊)?普通合伙[)）]$|[(（][\u4e00-\u9fff]{2,3}[)）]")
# What a firm does, written after its brand: 某某[科技], 鼎瑞[资产][评估], 启航[跨境][电商].
TRADES = ("科技", "技术", "信息", "网络", "电子", "贸易", "实业", "投资", "发展", "咨询", "管理",
          "建设", "工程", "房地产", "地产", "置业", "物流", "文化", "传媒", "餐饮", "服务", "食品",
          "医药", "生物", "化工", "机械", "设备", "制造", "汽车", "教育", "金融", "商贸", "电器",
          "材料", "能源", "环保", "软件", "数据", "智能", "物业", "装饰", "家居", "服饰", "广告",
          "国际", "控股", "资产", "保险", "证券", "基金", "担保", "租赁", "建筑", "装修", "旅游",
          "酒店", "医疗", "健康", "农业", "纺织", "印刷", "包装", "运输", "供应链", "电子商务",
          "电商", "跨境", "评估", "精密", "检测", "认证", "鉴定", "新能源", "光电", "通信",
          "五金", "塑胶", "家具", "文旅", "商务", "会展", "人力资源", "餐饮管理", "实业发展")
EN_FORMS = re.compile(
    r"(?:[,\s]+(?:Co\.?,?\s*Ltd\.?|Company\s+Limited|Limited|Ltd\.?|LLP|LLC|Inc\.?|"
    r"Incorporated|Corp\.?|Corporation|PLC|plc|GmbH|Group|Holdings|Company|Co\.?|& Co\.?))+$")
EN_ORGANISATION = re.compile(
    r"\b[A-Z][\w'’-]*(?:\s+(?:[A-Z][\w'’-]*|&|and|of)){0,5}"
    r"(?:,?\s+(?:Co\.?,?\s*Ltd\b\.?|Company\s+Limited|Limited|Ltd\b\.?|LLP|LLC|Inc\b\.?|"
    r"Corp\b\.?|Corporation|PLC|GmbH|Holdings|Solicitors|Law\s+Firm|Co\b\.?))+")
_EN_LEADING = re.compile(r"^(?:(?:The|A|An|At|In|By|From|With|For|To|And|Of|&)\s+)+")
# Leading words of an English firm's name that do not name it on their own.
_EN_GENERIC = words(
    "the china chinese asia asian international global national first new united general "
    "royal british american eastern western northern southern pacific golden great city "
    "beijing shanghai tianjin chongqing guangzhou shenzhen hangzhou nanjing suzhou wuhan "
    "chengdu xian changsha zhengzhou jinan qingdao dalian shenyang xiamen fuzhou ningbo wuxi "
    "hefei kunming zhuhai dongguan foshan wenzhou zhejiang jiangsu guangdong fujian shandong "
    "henan hebei hubei hunan sichuan yunnan anhui jiangxi liaoning hainan hong kong london "
    "manchester trading technology data law legal capital investment")
# Courts and authorities jieba tags nt: they name no party, so they stay.
PUBLIC_BODIES = ("法院", "检察院", "仲裁委员会", "仲裁委", "委员会", "公安局", "派出所", "政府",
                 "协会", "司法局", "法庭", "局", "厅", "部")
# jieba's nt (organisation) tags are noisy (最新进展, 中华全国): only these endings count.
_NT_ORGANISATIONS = ("银行", "大学", "学院", "医院", "中心", "研究院", "研究所", "基金会", "保险",
                     "证券", "酒店", "商场", "超市", "工厂", "厂", "店")
LAW_FIRM = re.compile(r"律师事务所|律所|law\s+firm|solicitors|attorneys|LLP", re.I)
# Words before 公司 that make it "a company", not a company's name (我们公司, 对方公司).
_NOT_NAMES = words("我们 我 你们 你 他们 该 本 贵 对方 这家 那家 一家 这个 那个 其 母 子 分 总 "
                   "上市 外资 国有 私营 民营 原 新 老 前 涉案 两家 多家 各 每家")
# Words that describe a firm's trade or profession, not its name (律师事务所, 科技公司).
GENERIC = frozenset(("律师", "会计师", "会计", "税务师", "专利", "商标", "资产评估", "房地产",
                     "评估", "代理", "法律", "咨询", "服务", *TRADES))
_NAME_TAGS = words("ns nz nr nrt nrfg n nt j eng vn an b l i a ng zg z nrfg v")


def role_of(name: str) -> str:
    return "law_firm" if LAW_FIRM.search(name) else "organisation"


def organisation_key(name: str) -> str:
    return "org:" + short_forms(name)[0].lower()


@functools.lru_cache(maxsize=512)
def short_forms(name: str) -> tuple[str, ...]:
    """The name and its shorter forms; the first is the core name, the last the full one."""
    name = name.strip()
    if not any(is_cjk(char) for char in name):
        core = EN_FORMS.sub("", name).strip(" ,")
        forms = [core] if core and len(core) >= 4 else []
        first = core.split()[0] if core.split() else ""
        if len(core.split()) > 1 and len(first) >= 4 and first.lower() not in _EN_GENERIC:
            forms.append(first)  # Northbridge for Northbridge Packaging Ltd.
        return tuple(dict.fromkeys([*forms, name]))
    core = _strip_region(_PARTNERSHIP.sub("", name))
    for suffix in ZH_FORMS:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
            break
    if core in GENERIC:
        return (name,)
    forms = [core]
    if "律师事务所" in name or "律所" in name:
        forms += [core + "律所", core + "所", core + "律师事务所"]
    else:
        forms += [core + "公司", core + "集团"]
    brand, trades = brand_of(core)
    if brand != core and brand.strip("某"):
        forms += [brand + trade for trade in trades] + [brand + "公司"]
        if word_frequency(brand) < _COMMON_BRAND:
            forms.append(brand)  # 恒达 alone, but not 启航 (to set sail) alone
    forms.append(name)
    return tuple(form for form in dict.fromkeys(forms) if len(form) >= 2)


_COMMON_BRAND = 100  # a brand this common in jieba's dictionary is an everyday word


def brand_of(core: str) -> tuple[str, list[str]]:
    """("鼎瑞", ["评估", "资产"]) for 鼎瑞资产评估: the brand and the trades cut after it."""
    brand, trades = core, []
    for _ in range(3):
        trade = max((t for t in TRADES if brand.endswith(t) and len(brand) >= len(t) + 2),
                    key=len, default=None)
        if trade is None:
            break
        trades.append(trade)
        brand = brand[: -len(trade)]
    return brand, trades


def brand_pinyin(name: str) -> str:
    """The brand of a Chinese firm in pinyin, as its English name writes it (Yunfan)."""
    if not any(is_cjk(char) for char in name):
        return ""
    from pypinyin import Style, lazy_pinyin

    brand, _ = brand_of(short_forms(name)[0])
    if not 2 <= len(brand) <= 4 or not all(is_cjk(char) for char in brand) or "某" in brand:
        return ""
    return "".join(lazy_pinyin(brand, style=Style.NORMAL)).capitalize()


def _strip_region(name: str) -> str:
    """Cut the places before the name (上海, 北京市, 浙江省杭州市) while a name remains."""
    tokens = segment(name).tokens
    cut = 0
    for position, token in enumerate(tokens[:-1]):
        is_place = token.flag == "ns" or token.word.endswith(("省", "市", "区", "县", "自治区"))
        rest = [t.word for t in tokens[position + 1:] if not t.word.endswith(ZH_FORMS)]
        if not is_place or not any(word not in GENERIC for word in rest):
            break
        cut = token.end
    return name[cut:] if len(name) - cut >= 4 else name


def found_organisations(text: str, segmentation: Segmentation) -> list[tuple[int, int, str]]:
    """(start, end, name) of organisations named in the text by their legal form."""
    found = []
    for match in EN_ORGANISATION.finditer(text):
        lead = _EN_LEADING.match(match.group())
        start = match.start() + (lead.end() if lead else 0)
        if start < match.end() and text[start].isupper():
            found.append((start, match.end(), text[start:match.end()]))
    tokens = segmentation.tokens
    for index, token in enumerate(tokens):
        suffix = next((s for s in ZH_FORMS if token.word.endswith(s)), None)
        if suffix is None:
            if token.flag == "nt" and token.word.endswith(_NT_ORGANISATIONS) \
                    and not token.word.endswith(PUBLIC_BODIES):
                found.append((token.start, token.end, token.word))
            continue
        start = _name_start(tokens, index, len(token.word) - len(suffix))
        if start is not None:
            found.append((start, token.end, text[start:token.end]))
    return found


def _name_start(tokens: list[Token], index: int, own: int) -> int | None:
    """Where the name before a legal form starts, or None when there is no name."""
    start = tokens[index].start
    name_chars = own  # 金山公司 is one token: its 金山 is the name
    position = index - 1
    while position >= 0 and index - position <= 4:
        token = tokens[position]
        placeholder = token.word.strip("某") == ""  # 某某科技有限公司
        if not placeholder and (token.flag not in _NAME_TAGS or token.word in _NOT_NAMES
                                or token.word in ROLE_NOUNS or not is_cjk(token.word[0])):
            break
        start = token.start
        name_chars += len(token.word)
        position -= 1
    own_name = tokens[index].word[:own]
    words = [token.word for token in tokens[position + 1:index]] + ([own_name] if own else [])
    if name_chars < 2 or all(word in GENERIC or word.strip("某") == "" for word in words):
        return None  # 律师事务所, 科技公司: a kind of firm, no name
    return start


def organisation_spans(text: str, segmentation: Segmentation,
                       names: list[tuple[int, int, str]]) -> list[Span]:
    """Each found organisation and its short forms wherever they appear."""
    spans: list[Span] = []
    for start, end, name in names:
        key, role = organisation_key(name), role_of(name)
        spans.append(Span(start, end, "organisation", FOUND, entity=key, role=role))
        for form in short_forms(name)[:-1]:
            if len(form) < 2 or form in text[start:end] and len(form) == end - start:
                continue
            for match in re.finditer(re.escape(form), text):
                spans.append(Span(match.start(), match.end(), "organisation", FOUND,
                                  entity=key, role=role))
    return spans
