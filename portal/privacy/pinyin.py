"""Latin spellings of Chinese names through pypinyin, and telling pinyin from English."""

from __future__ import annotations

import functools
import itertools

from portal.privacy.text import words

# Surname readings where the everyday reading of the character is another one (单 is Shan).
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha",
    "盖": "ge", "乐": "yue", "覃": "qin", "缪": "miao", "尉": "wei", "种": "chong", "召": "shao",
    "翟": "zhai", "柏": "bai", "秘": "bi", "员": "yun", "繁": "po", "华": "hua", "任": "ren",
    "燕": "yan", "沈": "shen", "石": "shi", "薄": "bo", "纪": "ji", "阚": "kan", "冼": "xian",
    "过": "guo", "隗": "wei", "长孙": "zhangsun", "尉迟": "yuchi", "万俟": "moqi", "句": "gou",
}
# Spellings used in Hong Kong, Taiwan and Singapore passports and letters (Mr Lee, Ms Wong).
OTHER_SPELLINGS = {
    "李": ("lee",), "陈": ("chan",), "王": ("wong",), "黄": ("wong",), "张": ("cheung", "chang"),
    "林": ("lam", "lim"), "刘": ("lau",), "吴": ("ng", "woo"), "周": ("chow", "chou"),
    "郑": ("cheng",), "何": ("ho",), "梁": ("leung",), "谢": ("tse",), "许": ("hui", "hsu"),
    "杨": ("yeung",), "赵": ("chiu", "chao"), "徐": ("tsui", "hsu"), "郭": ("kwok",),
    "罗": ("law", "lo"), "邓": ("tang",), "曾": ("tsang",), "蔡": ("choi", "tsai"),
    "钟": ("chung",), "叶": ("yip", "yeh"), "潘": ("poon",), "冯": ("fung",), "麦": ("mak",),
    "高": ("ko",), "卢": ("lo",), "袁": ("yuen",), "江": ("kong",), "苏": ("so",), "孙": ("suen",),
}
# Pinyin syllables that are also English words: never redacted alone, only in a full name.
ENGLISH_WORDS = words(
    "a an he me long sun bang fan pan tan bin man hang sang ran pin ping lie die tie bo ma mo "
    "men hen run so ho ko lo law tang kong gang dang ban can cha chin chow dong fang guy hong "
    "hui lane lee ling lung mao mei mien min ming nan nun pang pie pu rang rue sa sai say she "
    "shin sin song su sue tai ten tin tong wan wee wei who woo yang yeh yen yi you young yu zen "
    "ye wen lu li lim ng mu ha na")


@functools.cache
def syllables() -> frozenset[str]:
    """Every toneless pinyin syllable pypinyin knows, with ü written v, u and yu as well."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            found.update(_u_spellings(to_normal(reading).lower()))
    return frozenset(value for value in found if value.isascii() and value.isalpha())


def _u_spellings(syllable: str) -> list[str]:
    if "ü" not in syllable and "v" not in syllable:
        return [syllable]
    return [syllable.replace(mark, form) for mark in ("ü", "v") if mark in syllable
            for form in ("v", "u", "yu", "ü")]


def split_syllables(word: str) -> list[str] | None:
    """"jianhua" -> ["jian", "hua"]; None when the word is not pinyin."""
    word = word.lower()
    known = syllables()

    @functools.cache
    def split(start: int) -> tuple[str, ...] | None:
        if start == len(word):
            return ()
        for end in range(min(len(word), start + 6), start, -1):
            if word[start:end] in known:
                rest = split(end)
                if rest is not None:
                    return (word[start:end], *rest)
        return None

    found = split(0)
    return list(found) if found is not None else None


def char_readings(char: str, limit: int = 3) -> list[str]:
    from pypinyin import Style, pinyin

    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    values = [value for value in (readings[0] if readings else []) if value.isascii()]
    return list(dict.fromkeys(values))[:limit]


@functools.lru_cache(maxsize=1024)
def surname_spellings(surname: str) -> tuple[str, list[str]]:
    """(the usual spelling, every spelling worth matching) of a Chinese surname."""
    if surname in SURNAME_READINGS:
        usual = SURNAME_READINGS[surname]
    else:
        usual = "".join((char_readings(char, 1) or [""])[0] for char in surname)
    spellings = [usual]
    if len(surname) == 1:
        spellings += char_readings(surname)
    spellings += OTHER_SPELLINGS.get(surname, ())
    expanded = [form for spelling in spellings for form in _u_spellings(spelling)]
    return usual, [form for form in dict.fromkeys(expanded) if form]


def given_spellings(given: str, limit: int = 4) -> list[list[str]]:
    """Syllable lists for a given name, every reading of a heteronym (up to `limit`)."""
    per_char = [[form for reading in char_readings(char, 2) for form in _u_spellings(reading)][:3]
                for char in given]
    if not all(per_char):
        return []
    return [list(combo) for combo in itertools.islice(itertools.product(*per_char), limit)]


def person_key(surname: str, given: str = "") -> str:
    """found:<surname>:<given>, the pinyin of a Chinese name: 张伟 and Zhang Wei share it."""
    from pypinyin import Style, lazy_pinyin

    usual = surname_spellings(surname)[0]
    return f"found:{usual}:{''.join(lazy_pinyin(given, style=Style.NORMAL))}"
