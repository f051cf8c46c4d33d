"""Demo accounts and a small, realistic Chinese law firm (`flask demo seed`)."""

from __future__ import annotations

import os
from datetime import date

from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.demo_prevention import seed_demo_firm
from portal.models.matter import Client, Matter
from portal.models.user import Department, Role, User
from portal.services.accounts import hash_password
from portal.services.followup.catalogue import seed_defaults as seed_root_causes
from portal.services.prevention.core import seed_defaults as seed_matter_types
from portal.services.resolution.recourse import seed_defaults as seed_recourse
from portal.services.rules_catalogue import seed_rules

DEPARTMENTS = [
    ("litigation", "争议解决部", "Dispute Resolution"),
    ("corporate", "公司并购部", "Corporate and M&A"),
    ("family", "婚姻家事部", "Family and Private Clients"),
    ("ip", "知识产权部", "Intellectual Property"),
]

# username, name, email, department, roles, title
ACCOUNTS = [
    ("reception", "林晓雯", "lin.xiaowen@firm.example", None, {Role.RECEPTIONIST}, "前台接待"),
    ("investigator", "周建国", "zhou.jianguo@firm.example", "corporate", {Role.INVESTIGATOR}, "高级律师"),
    ("investigator2", "吴丽娟", "wu.lijuan@firm.example", "ip", {Role.INVESTIGATOR}, "律师"),
    ("committee1", "郑志强", "zheng.zhiqiang@firm.example", "corporate", {Role.COMMITTEE}, "合伙人"),
    ("committee2", "孙海燕", "sun.haiyan@firm.example", "family", {Role.COMMITTEE}, "合伙人"),
    ("committee3", "马文博", "ma.wenbo@firm.example", "ip", {Role.COMMITTEE}, "顾问"),
    ("partner", "陈志远", "chen.zhiyuan@firm.example", "litigation",
     {Role.PARTNER, Role.COMMITTEE}, "管理合伙人"),
    ("partner2", "刘慧敏", "liu.huimin@firm.example", "family", {Role.PARTNER}, "合伙人"),
]

# Lawyers recorded without a login: they can be respondents or matter team members.
LAWYERS = [
    ("王磊", "wang.lei@firm.example", "litigation", "律师"),
    ("张敏", "zhang.min@firm.example", "litigation", "资深律师"),
    ("李娜", "li.na@firm.example", "family", "律师"),
    ("赵鹏", "zhao.peng@firm.example", "corporate", "律师助理"),
    ("黄静", "huang.jing@firm.example", "ip", "律师"),
]

CLIENTS = [
    ("李明", "13800138000", "li.ming@example.com", "110101198001011234", "北京市朝阳区建国路88号", "zh"),
    ("王芳", "13900139000", "wang.fang@example.com", "310104198505052345", "上海市徐汇区漕溪北路18号", "zh"),
    ("张伟", "13700137000", "zhang.wei@example.com", None, "广州市天河区珠江新城花城大道5号", "zh"),
    ("Emily Carter", "+44 20 7946 0000", "emily.carter@example.co.uk", None, "12 King's Road, London", "en"),
    ("上海恒远贸易有限公司", "021-64001234", "legal@hengyuan.example.com", None, "上海市闵行区虹梅路3000号", "zh"),
]

MATTERS = [
    ("M-2025-0142", "李明诉某房地产公司商品房买卖合同纠纷", "(2025)京0105民初12345号", 0,
     "litigation", "王磊", "partner", ["张敏"]),
    ("M-2025-0188", "王芳离婚财产分割", "(2025)沪0104民初6789号", 1, "family", "李娜",
     "partner2", []),
    ("M-2026-0031", "张伟劳动争议仲裁", "穗劳人仲案字〔2026〕第321号", 2, "litigation", "张敏",
     "partner", ["王磊"]),
    ("M-2026-0057", "Carter v. Shanghai supplier — contract claim", None, 3, "corporate",
     "赵鹏", "committee1", ["黄静"]),
    ("M-2026-0090", "恒远贸易商标侵权诉讼", "(2026)沪73民初456号", 4, "ip", "黄静",
     "committee3", []),
]


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", "redress-demo")


def _department(code: str | None, by_code: dict[str, Department]) -> int | None:
    return by_code[code].id if code else None


def seed(password: str, *, remind_overdue: bool = False) -> bool:
    """Create the demo firm, every account signing in with `password`; returns False (and
    changes nothing) when it already exists. With `remind_overdue` (`flask demo seed`), its
    overdue progress report is left for the worker to remind, so the reminder reaches the
    mail sink; the tests' firm counts it as reminded, so their workers send only their own."""
    seed_rules()  # a database made without the migration lacks the rules catalogue
    seed_recourse()  # ... and the routes of recourse
    seed_root_causes()  # ... and the root-cause catalogue
    seed_matter_types()  # ... and the matter types with their checklist templates
    if db.session.scalar(select(User).where(User.username == "reception")):
        return False
    by_code: dict[str, Department] = {}
    for code, zh, en in DEPARTMENTS:
        by_code[code] = Department(name_zh=zh, name_en=en)
        db.session.add(by_code[code])
    db.session.flush()
    password_hash = hash_password(password)
    people: dict[str, User] = {}
    for username, name, email, dept, roles, title in ACCOUNTS:
        user = User(username=username, name=name, email=email, title=title,
                    password_hash=password_hash, department_id=_department(dept, by_code))
        user.set_roles(roles)
        db.session.add(user)
        people[username] = user
    for name, email, dept, title in LAWYERS:
        people[name] = User(name=name, email=email, title=title,
                            department_id=_department(dept, by_code))
        db.session.add(people[name])
    clients = [Client(name=n, phone=p, email=e, id_number=i, address=a, language=lang,
                      organisation=n.endswith("公司"))
               for n, p, e, i, a, lang in CLIENTS]
    db.session.add_all(clients)
    db.session.flush()
    by_code["litigation"].head_id = people["partner"].id
    by_code["family"].head_id = people["partner2"].id
    matters = [Matter(
        reference=ref, title=title, case_number=case, client_id=clients[client].id,
        department_id=by_code[dept].id, responsible_lawyer_id=people[lawyer].id,
        partner_id=people[partner].id, team=[people[t] for t in team],
        opened_on=date(int(ref[2:6]), 3, 1),
    ) for ref, title, case, client, dept, lawyer, partner, team in MATTERS]
    db.session.add_all(matters)
    db.session.flush()
    seed_demo_firm(matters, clock.now(), reminded=not remind_overdue)  # types, checklists, expectations, reports
    return True
