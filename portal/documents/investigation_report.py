"""The internal investigation report's context: plain data only, both languages side by side.

It formats the facts `services.findings.report_facts` gathered (strings, dates, codes); it
imports no model. The report is for the firm (the complaints committee) and is never sent to
the client: every page says so in its top margin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from markupsafe import Markup

from portal import clock
from portal.clock import LOCAL_TZ
from portal.documents.acknowledgement import (
    REMEDY_NAMES,
    bilingual_date,
    bilingual_moment,
    firm_context,
)

LANGUAGES = ["zh", "en"]  # the firm's language first

CONFIDENTIAL = {"zh": "机密 · 仅供本所内部使用",
                "en": "CONFIDENTIAL · for the firm's internal use only"}

FINDING_NAMES = {
    "established": {"zh": "成立", "en": "Established"},
    "partly_established": {"zh": "部分成立", "en": "Partly established"},
    "not_established": {"zh": "不成立", "en": "Not established"},
}
CATEGORY_NAMES = {
    "communication": {"zh": "沟通", "en": "Communication"},
    "fees": {"zh": "收费与账单", "en": "Fees and billing"},
    "competence": {"zh": "专业能力或勤勉", "en": "Competence or diligence"},
    "delay": {"zh": "拖延", "en": "Delay"},
    "attitude": {"zh": "服务态度", "en": "Attitude"},
    "conflict": {"zh": "利益冲突", "en": "Conflict of interest"},
    "confidentiality": {"zh": "保密", "en": "Confidentiality"},
    "other": {"zh": "其他", "en": "Other"},
}
SEVERITY_NAMES = {
    "minor": {"zh": "轻微", "en": "Minor"},
    "general": {"zh": "一般", "en": "General"},
    "serious": {"zh": "严重", "en": "Serious"},
    "critical": {"zh": "重大", "en": "Critical"},
}
RESPONSIBILITY_NAMES = {
    "individual": {"zh": "律师个人", "en": "An individual lawyer"},
    "team": {"zh": "承办团队", "en": "The team"},
    "process": {"zh": "本所流程", "en": "A firm process"},
    "no_fault": {"zh": "无过错", "en": "No fault"},
}
SOURCE_NAMES = {
    "lawyers_law": {"zh": "《中华人民共和国律师法》", "en": "Lawyers Law of the PRC"},
    "acla_rules": {"zh": "《律师执业行为规范》", "en": "ACLA Lawyers' Practice Conduct Rules"},
    "acla_discipline": {"zh": "《律师协会会员违规行为处分规则》",
                        "en": "ACLA Rules on Disciplinary Sanctions for Members"},
    "firm_procedure": {"zh": "本所程序", "en": "Firm procedure"},
}
METHOD_NAMES = {
    "call": {"zh": "电话", "en": "Phone call"},
    "meeting": {"zh": "面谈", "en": "Meeting"},
    "notice": {"zh": "电子邮件进展通知", "en": "Progress notice by email"},
}


def css_string(text: str) -> Markup:
    """A quoted CSS string for `content:` (every character but letters, digits and spaces
    written as a CSS escape, so that nothing in it can end the string or the rule)."""
    escaped = "".join(c if (c.isascii() and c.isalnum()) or c == " " else f"\\{ord(c):x} "
                      for c in text)
    return Markup(f'"{escaped}"')  # noqa: S704 - every character that could end it is escaped


def named(names: Mapping[str, dict], code: str | None) -> dict | None:
    """A code's names in both languages (the code itself for one not listed)."""
    if not code:
        return None
    return names.get(code) or {"zh": code, "en": code}


def citation(article: str) -> dict:
    """Both languages' citation of an article reference (see services.rules_catalogue)."""
    if article.isdigit():
        return {"zh": f"第{article}条", "en": f"Art. {article}"}
    section = re.fullmatch(r"(\d+)\.(\d+)", article)
    if section:
        chapter, number = section.groups()
        return {"zh": f"第{chapter}章第{number}节", "en": f"Ch. {chapter}, s. {number}"}
    return {"zh": article, "en": article}


def _rule(rule: Mapping) -> dict:
    return {"source": named(SOURCE_NAMES, rule["source"]), "citation": citation(rule["article"]),
            "title_zh": rule["title_zh"], "title_en": rule["title_en"],
            "to_verify": bool(rule["to_verify"])}


def _allegation(item: Mapping) -> dict:
    return {
        "number": item["number"], "text": item["text"],
        "category": named(CATEGORY_NAMES, item["category"]),
        "respondent": item.get("respondent") or "",
        "finding": named(FINDING_NAMES, item["finding"]),
        "reasoning": item.get("reasoning") or "",
        "nature": named(CATEGORY_NAMES, item.get("nature_found")),
        "severity": named(SEVERITY_NAMES, item.get("severity_found")),
        "responsibility": named(RESPONSIBILITY_NAMES, item.get("responsibility")),
        "rules": [_rule(r) for r in item.get("rules") or []],
        "remedies": [named(REMEDY_NAMES, code) for code in item.get("remedies") or []],
        "remedy_notes": item.get("remedy_notes") or "",
    }


def _deadline(deadline: Mapping | None) -> dict | None:
    if not deadline:
        return None
    return {"due": bilingual_date(deadline["due"]), "late": bool(deadline.get("late"))}


def _first_response(first: Mapping | None) -> dict | None:
    if not first:
        return None
    return {"method": named(METHOD_NAMES, first["method"]),
            "at": bilingual_moment(first["responded_at"]), "late": bool(first["late"])}


def report_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """Everything the report may show, from the plain `facts` the service gathered."""
    reference = facts["reference"]
    submitted_at = facts.get("submitted_at") or now or clock.now()
    return {
        "kind": "investigation_report",
        "languages": LANGUAGES,
        "language": LANGUAGES[0],
        "lang_tag": "zh-CN",
        "title": {"zh": f"投诉调查报告 {reference}", "en": f"Investigation report {reference}"},
        "confidential": CONFIDENTIAL,
        "confidential_css": css_string(f"{CONFIDENTIAL['zh']}  ·  {CONFIDENTIAL['en']}"),
        "created_iso": submitted_at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "reference": reference,
        "complainant_name": facts.get("complainant_name") or "",
        "respondents": list(facts.get("respondents") or []),
        "matter": dict(facts["matter"]) if facts.get("matter") else None,
        "received": bilingual_moment(facts.get("received_at")),
        "severity": named(SEVERITY_NAMES, facts.get("severity")),
        "categories": [named(CATEGORY_NAMES, c) for c in facts.get("categories") or []],
        "lead": facts.get("lead") or "",
        "investigators": list(facts.get("investigators") or []),
        "first_response": _first_response(facts.get("first_response")),
        "investigation_deadline": _deadline(facts.get("investigation_deadline")),
        "allegations": [_allegation(a) for a in facts.get("allegations") or []],
        "submitted": bilingual_moment(submitted_at),
        "submitted_by": facts.get("submitted_by") or "",
        "firm": firm_context(config),
    }
