"""The words that replace what was removed, in Chinese or English.

People and organisations get a role word and a letter; letters run in one sequence per text
in the order each person or organisation is first mentioned (客户甲, 律师乙, 第三人丙,
某公司丁; Client A, Lawyer B, Third party C, Company D). After 癸 (or Z) the sequence
starts again with a number: 甲2, 乙2 … (A2, B2 …). Law firms read 某律所X / Law firm X.
"""

from __future__ import annotations

LETTERS = {"zh": "甲乙丙丁戊己庚辛壬癸", "en": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}

ENTITY_LABELS = {
    "zh": {"client": "客户{}", "lawyer": "律师{}", "staff": "职员{}", "other": "第三人{}",
           "organisation": "某公司{}", "law_firm": "某律所{}"},
    "en": {"client": "Client {}", "lawyer": "Lawyer {}", "staff": "Staff {}",
           "other": "Third party {}", "organisation": "Company {}", "law_firm": "Law firm {}"},
}

KIND_LABELS = {
    "zh": {"phone": "[电话]", "email": "[邮箱]", "id_number": "[身份证号]",
           "passport": "[护照号]", "bank_card": "[银行卡号]", "licence": "[执业证号]",
           "wechat": "[微信号]", "case_number": "[案号]", "address": "[地址]"},
    "en": {"phone": "[phone]", "email": "[email]", "id_number": "[ID number]",
           "passport": "[passport]", "bank_card": "[bank card]", "licence": "[licence no.]",
           "wechat": "[WeChat ID]", "case_number": "[case no.]", "address": "[address]"},
}


def letter(number: int, language: str) -> str:
    """The number-th letter (0-based) of the text's sequence."""
    letters = LETTERS[language]
    lap, position = divmod(number, len(letters))
    return letters[position] + (str(lap + 1) if lap else "")


def entity_label(role: str, number: int, language: str) -> str:
    return ENTITY_LABELS[language][role].format(letter(number, language))


def kind_label(kind: str, language: str) -> str:
    return KIND_LABELS[language][kind]
