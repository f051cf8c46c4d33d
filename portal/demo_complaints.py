"""`flask demo seed --complaints N`: years of realistic registered complaints (load tests, demos).

The complaints are written as rows, not through the intake screens, but consistently with
registration (`services/intake/registration.py`): each gets a reference `TS-<year>-<number>`
from that year's `ReferenceCounter` (so a complaint registered afterwards continues the series),
and its first-response clock from the working-day calendar, met on time once that day is past.
They are received over the last YEARS (ten) years. No email is queued: these complaints were
answered long ago, and the outbox must not mail thousands of made-up clients. What happened to
each afterwards comes in the same batch: its course (portal/demo_outcomes.py: triage,
findings, the decision, the outcome, closing, satisfaction; every state a registered complaint
can be in), its rows (portal/demo_outcome_rows.py), the committee's ballots
(portal/demo_ballots.py), its notices and its audit trail (portal/demo_history.py: about ten
events a complaint, chained as they happened). One more audit event records the seeding itself.
The data are deterministic: the same database and the same `random_seed` give the same
complaints.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal import clock, demo_ballots, demo_outcome_rows
from portal.db import db, write_transaction
from portal.demo import DEPARTMENTS, LAWYERS
from portal.demo_history import History, Notices, render_sample
from portal.demo_outcomes import Outcomes, seed_actions
from portal.demo_prevention import Prevention
from portal.models.complaint import (
    Channel,
    Complaint,
    ConfirmationMethod,
    ReferenceCounter,
    Remedy,
    State,
)
from portal.models.deadline import Deadline, DeadlineKind
from portal.models.matter import Client, Matter
from portal.models.user import Department, User
from portal.services import audit, calendar
from portal.services.analytics import fact_table
from portal.services.calendar import LOCAL_TZ

BATCH = 2_000  # complaints per write transaction
YEARS = 10  # received over the last ten years
REFERENCE_MAX = 99_999  # five digits, as registration allows

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
            "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力梅鑫婷慧俊峰琳晨宇浩"
         "欣怡博雪倩宁斌凯云海燕佳悦子涵思雨嘉琪晓东志国建平春兰立新永红家豪")
FIRST_EN = ("James", "Olivia", "Daniel", "Sophie", "Michael", "Hannah", "Thomas", "Emma",
            "David", "Laura", "Peter", "Anna", "Mark", "Julia", "Lucas", "Chloe")
LAST_EN = ("Smith", "Brown", "Wilson", "Taylor", "Müller", "Schmidt", "Martin", "Dubois",
           "Anderson", "Clarke", "Walker", "Hughes", "Bernard", "Fischer", "Evans", "Moreau")
CITIES = (
    ("北京市", ("朝阳区", "海淀区", "东城区", "丰台区"),
     ("建国路", "中关村大街", "东三环中路"), "京"),
    ("上海市", ("浦东新区", "徐汇区", "静安区", "闵行区"),
     ("世纪大道", "漕溪北路", "南京西路"), "沪"),
    ("广州市", ("天河区", "越秀区", "海珠区"), ("花城大道", "中山五路", "江南大道"), "粤"),
    ("深圳市", ("南山区", "福田区", "宝安区"), ("深南大道", "科技园路", "宝安大道"), "粤"),
    ("杭州市", ("西湖区", "上城区", "滨江区"), ("文三路", "延安路", "江南大道"), "浙"),
    ("成都市", ("武侯区", "锦江区", "高新区"), ("人民南路", "春熙路", "天府大道"), "川"),
)
COMPANY_WORDS = ("恒远", "华信", "瑞丰", "中天", "宏达", "金桥", "鼎盛", "海川", "博雅", "新锐")
INDUSTRIES = ("贸易", "科技", "建设工程", "物流", "餐饮管理", "房地产开发", "生物医药", "文化传媒")
CAUSES = ("民间借贷纠纷", "商品房买卖合同纠纷", "劳动争议", "离婚财产分割",
          "机动车交通事故责任纠纷", "股权转让纠纷", "商标侵权纠纷", "建设工程施工合同纠纷",
          "继承纠纷", "医疗损害责任纠纷",
          "房屋租赁合同纠纷", "买卖合同纠纷")
DEPARTMENT_OF_CAUSE = {"离婚财产分割": "family", "继承纠纷": "family", "商标侵权纠纷": "ip",
                       "股权转让纠纷": "corporate", "买卖合同纠纷": "corporate"}
PLACES = ("律所会议室", "电话沟通", "微信沟通", "法院", "仲裁委员会", "律所前台", "视频会议")

# Narrative fragments; {lawyer}, {amount}... are filled in per complaint.
OPENINGS = (
    "我于{engaged}委托贵所办理{matter}，并签订了委托代理合同。",
    "{engaged}，我因{matter}聘请了贵所的{lawyer}律师。",
    "本人是贵所的客户，{matter}一案由{lawyer}律师负责承办。",
)
OPENINGS_ORGANISATION = (
    "我公司自{engaged}起委托贵所处理{matter}，至今已近{months}个月。",
    "{engaged}，我公司就{matter}与贵所签订了专项法律服务合同，由{lawyer}律师承办。",
)
ISSUES = (
    "合同约定律师费为{amount}元，结案前却被要求追加{extra}元，事先没有任何书面说明。",
    "律师费发票迟迟没有开具，我多次催要都没有结果。",
    "收费明细不清楚，{lawyer}律师无法说明每一笔费用的用途。",
    "风险代理的收费比例与当初口头承诺的不一致，多收了约{extra}元。",
    "开庭前一周才通知我准备证据，导致部分重要材料没能按时提交。",
    "一审判决送达后，直到上诉期只剩两天才告诉我结果，差点错过上诉期。",
    "案件拖了{months}个月没有任何进展，立案材料一直没有递交到法院。",
    "约定两周内出具的法律意见书，拖了{weeks}周才交给我，而且内容十分简单。",
    "打电话多次无人接听，微信消息也经常好几天不回。",
    "{lawyer}律师态度冷淡，对我提出的问题很不耐烦，甚至当面挂断电话。",
    "案件被交给一位我从未见过的助理处理，事先没有征得我的同意。",
    "调解方案没有跟我商量，{lawyer}律师就当庭表示同意，损害了我的利益。",
    "庭审结束后没有向我说明庭审情况，也没有告诉我下一步怎么安排。",
    "我提供的原件至今没有退还，其中包括房产证和借条原件。",
    "代理词中把我的姓名和关键日期都写错了，明显没有认真准备。",
    "律所前台告诉我{lawyer}律师已经离职，但没有人通知我案件由谁接手。",
)
CLOSINGS = (
    "希望贵所认真调查，给我一个合理的解释。",
    "希望律所重视此事，避免其他客户遇到同样的问题。",
    "请在收到投诉后尽快与我联系，我的电话一直保持畅通。",
)
CLOSINGS_REFUND = (
    "我要求退还部分律师费，并由律所出具书面道歉。",
    "请律所尽快更换承办律师，并退还未完成部分的费用。",
)
NARRATIVES_EN = (
    "I instructed the firm on {matter} in {engaged_en}. The agreed fee was CNY {amount}, but I "
    "was later asked to pay a further CNY {extra} without any explanation.",
    "My calls and emails to {lawyer} went unanswered for weeks, and I only learned of the "
    "hearing date from the court itself.",
    "The legal opinion promised within two weeks arrived after {weeks} weeks and did not "
    "address my questions. I would like an explanation and a partial refund.",
)
REMEDY_DETAILS = {
    Remedy.PARTIAL_REFUND: "退还律师费{extra}元",
    Remedy.FULL_REFUND: "退还已支付的全部律师费{amount}元",
    Remedy.OTHER: "更换承办律师，并书面说明案件目前的进展",
}
CHANNEL_WEIGHTS = {Channel.PHONE: 30, Channel.WALK_IN: 15, Channel.EMAIL: 20, Channel.LETTER: 5,
                   Channel.CLIENT_RELATIONS: 10, Channel.WEB: 20}
# The way that needs no note for each channel (services/intake/confirmation.py).
CONFIRMATION_BY_CHANNEL = {Channel.PHONE: ConfirmationMethod.PHONE,
                           Channel.WALK_IN: ConfirmationMethod.IN_PERSON,
                           Channel.CLIENT_RELATIONS: ConfirmationMethod.IN_PERSON,
                           Channel.EMAIL: ConfirmationMethod.SIGNED_LINK,
                           Channel.LETTER: ConfirmationMethod.SIGNED_LINK,
                           Channel.WEB: ConfirmationMethod.SIGNED_LINK}


@dataclass
class _Firm:
    """What the generated complaints refer to: the demo firm's people and departments."""

    reception: User
    lawyers: list[User]  # respondents and responsible lawyers, in order of weight
    weights: list[int]
    partners: list[User]
    departments: dict[str, int]
    working_days: int


def _firm() -> _Firm:

    by_name = {u.name: u for u in db.session.scalars(select(User))}
    by_username = {u.username: u for u in by_name.values() if u.username}
    lawyers = [by_name[name] for name, *_rest in LAWYERS]
    lawyers += [by_username["partner2"], by_username["partner"], by_username["investigator"]]
    names = {d.name_zh: d.id for d in db.session.scalars(select(Department))}
    return _Firm(
        reception=by_username["reception"],
        lawyers=lawyers,
        weights=[20] * len(LAWYERS) + [5, 2, 3],
        partners=[by_username["partner"], by_username["partner2"]],
        departments={code: names[zh] for code, zh, _en in DEPARTMENTS},
        working_days=int(current_app.config["FIRST_RESPONSE_WORKING_DAYS"]),
    )


class _Generator:
    """Makes clients, matters and complaints from one seeded random number generator."""

    def __init__(self, rng: random.Random, firm: _Firm, matter_numbers: Counter[int]) -> None:
        self.rng = rng
        self.firm = firm
        self.matter_numbers = matter_numbers  # last matter number used per year
        self.clients: list[Client] = []
        self.matters: dict[int, Matter] = {}  # one matter per client object id
        self.deadlines: dict[date, calendar.Deadline] = {}

    # -- people -------------------------------------------------------------------------

    def _chinese_name(self) -> str:
        given = "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def _id_number(self, born: date) -> str:
        body = f"{self.rng.randint(110000, 659000)}{born:%Y%m%d}{self.rng.randint(0, 999):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
        return body + check

    def _address(self) -> tuple[str, str]:
        city, districts, roads, _abbr = self.rng.choice(CITIES)
        address = (f"{city}{self.rng.choice(districts)}{self.rng.choice(roads)}"
                   f"{self.rng.randint(1, 999)}号")
        return city, address

    def new_client(self) -> Client:
        rng = self.rng
        kind = rng.random()
        if kind < 0.07:
            first, last = rng.choice(FIRST_EN), rng.choice(LAST_EN)
            client = Client(name=f"{first} {last}", language="en",
                            phone=f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                            email=f"{first.lower()}.{rng.randint(1, 9999)}@example.co.uk",
                            address=f"{rng.randint(1, 200)} High Street, London")
        elif kind < 0.17:
            city, address = self._address()
            client = Client(name=f"{city[:-1]}{rng.choice(COMPANY_WORDS)}"
                                 f"{rng.choice(INDUSTRIES)}有限公司",
                            organisation=True, address=address, language="zh",
                            phone=f"0{rng.randint(10, 29)}-{rng.randint(60000000, 69999999)}",
                            email=f"legal{rng.randint(1, 99999)}@example.com")
        else:
            born = date(rng.randint(1955, 2002), rng.randint(1, 12), rng.randint(1, 28))
            _city, address = self._address()
            client = Client(name=self._chinese_name(), language="zh", address=address,
                            phone=f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
                            email=(f"user{rng.randint(10000, 99999999)}@example.com"
                                   if rng.random() < 0.7 else None),
                            id_number=self._id_number(born) if rng.random() < 0.5 else None)
        self.clients.append(client)
        return client

    def client(self) -> Client:
        if self.clients and self.rng.random() < 0.15:  # some clients complain more than once
            return self.rng.choice(self.clients)
        return self.new_client()

    def lawyer(self) -> User:
        return self.rng.choices(self.firm.lawyers, self.firm.weights)[0]

    # -- matters ------------------------------------------------------------------------

    def matter(self, client: Client, lawyer: User, before: datetime) -> Matter:
        known = self.matters.get(id(client))
        if known is not None:
            return known
        rng = self.rng
        opened = before.date() - timedelta(days=rng.randint(30, 900))
        self.matter_numbers[opened.year] += 1
        cause = rng.choice(CAUSES)
        _city, _districts, _roads, abbr = rng.choice(CITIES)
        opponent = self._chinese_name() if rng.random() < 0.6 else (
            f"{rng.choice(COMPANY_WORDS)}{rng.choice(INDUSTRIES)}有限公司")
        matter = Matter(
            reference=f"M-{opened.year}-{self.matter_numbers[opened.year]:04d}",
            title=f"{client.name}诉{opponent}{cause}"[:200],
            case_number=(f"({opened.year}){abbr}{rng.randint(100, 9999):04d}民初"
                         f"{rng.randint(1, 40000)}号" if rng.random() < 0.7 else None),
            client=client, opened_on=opened, responsible_lawyer=lawyer,
            department_id=self.firm.departments[DEPARTMENT_OF_CAUSE.get(cause, "litigation")],
            partner=rng.choice(self.firm.partners),
        )
        self.matters[id(client)] = matter
        return matter

    # -- the complaint ------------------------------------------------------------------

    def first_response_due(self, day: date) -> calendar.Deadline:
        # The calendar reads the firm's overrides on every call, and thousands of complaints
        # share a few hundred days: compute each day once.
        if day not in self.deadlines:
            received = datetime(day.year, day.month, day.day, 12, tzinfo=LOCAL_TZ)
            self.deadlines[day] = calendar.first_response_due(received, self.firm.working_days)
        return self.deadlines[day]

    def _fill(self, text: str, lawyer: User, matter_title: str, received: datetime) -> str:
        rng = self.rng
        engaged = received.date() - timedelta(days=rng.randint(60, 700))
        amount = rng.randrange(10_000, 300_000, 1_000)
        return text.format(
            lawyer=lawyer.name, matter=matter_title, months=rng.randint(3, 18),
            weeks=rng.randint(3, 10), amount=f"{amount:,}", extra=f"{amount // 5:,}",
            engaged=f"{engaged.year}年{engaged.month}月", engaged_en=f"{engaged:%B %Y}",
        )

    def narrative(self, client: Client, lawyer: User, matter: Matter | None,
                  received: datetime, refund: bool) -> str:
        rng = self.rng
        if client.language == "en":
            title = matter.title if matter else "a contract dispute"
            parts = rng.sample(NARRATIVES_EN, rng.randint(1, len(NARRATIVES_EN)))
        else:
            title = matter.title if matter else "一起" + rng.choice(CAUSES)
            issues = rng.sample(ISSUES, rng.choice((1, 1, 2, 2, 3, 4, 6)))
            opening = rng.choice(OPENINGS_ORGANISATION if client.organisation else OPENINGS)
            parts = [opening, *issues, rng.choice(CLOSINGS_REFUND if refund else CLOSINGS)]
        separator = " " if client.language == "en" else ""
        return separator.join(self._fill(part, lawyer, title, received) for part in parts)

    def remedies(self) -> list[str]:
        picked = self.rng.sample(list(Remedy), self.rng.choice((1, 1, 2, 2, 3)))
        return [r.value for r in picked]

    def complaint(self, received: datetime, now: datetime) -> Complaint:
        rng = self.rng
        client = self.client()
        respondents = [self.lawyer()]
        while rng.random() < 0.2 and len(respondents) < 3:
            extra = self.lawyer()
            if extra not in respondents:
                respondents.append(extra)
        matter = self.matter(client, respondents[0], received) if rng.random() < 0.75 else None
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        registered = min(received + timedelta(minutes=rng.randint(20, 60 * 48)), now)
        created = received + timedelta(minutes=rng.randint(1, 15))
        # read back and confirmed after the record was made, before it was registered
        confirmed = max(registered - timedelta(minutes=rng.randint(1, 15)),
                        min(created + timedelta(minutes=1), registered))
        method = CONFIRMATION_BY_CHANNEL[channel]
        remedies = self.remedies()
        details = [REMEDY_DETAILS[Remedy(r)] for r in remedies if Remedy(r) in REMEDY_DETAILS]
        occurred = received.date() - timedelta(days=rng.randint(1, 200))
        deadline = self.first_response_due(received.astimezone(LOCAL_TZ).date())
        # A past promise was answered soon after registration, by the due day if it could be
        # (no random draw: the generator's sequence, and so every other field, stays as it was).
        answered = None
        if deadline.due < now.astimezone(LOCAL_TZ).date():
            by = datetime(deadline.due.year, deadline.due.month, deadline.due.day, 18,
                          tzinfo=LOCAL_TZ)
            answered = max(registered, min(registered + timedelta(hours=4), by))
        return Complaint(
            state=State.REGISTERED.value, channel=channel.value, received_at=received,
            language=client.language, complainant=client, matter=matter,
            respondents=respondents,
            narrative=self.narrative(client, respondents[0], matter, received, refund=any(
                r in (Remedy.PARTIAL_REFUND, Remedy.FULL_REFUND) for r in remedies)),
            occurred_on=occurred,
            occurred_until=occurred + timedelta(days=rng.randint(1, 90))
            if rng.random() < 0.3 else None,
            occurred_place=rng.choice(PLACES) if rng.random() < 0.6 else None,
            remedies_sought=remedies,
            remedy_details="；".join(self._fill(d, respondents[0], "", received)
                                    for d in details) or None,
            confirmed_at=confirmed, confirmation_method=method.value,
            # through the emailed link the client confirms alone (services/intake/confirmation)
            confirmed_by_id=None if method == ConfirmationMethod.SIGNED_LINK
            else self.firm.reception.id,
            registered_at=registered,
            deadlines=[Deadline(kind=DeadlineKind.FIRST_RESPONSE.value, due=deadline.due,
                                provisional=deadline.provisional, stopped_at=answered,
                                stopped_late=answered is not None and (
                                    answered.astimezone(LOCAL_TZ).date() > deadline.due),
                                created_at=registered)],
            created_by_id=self.firm.reception.id, created_at=created, updated_at=registered,
        )


def _received_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """Spread over the last YEARS years in office hours, oldest first."""
    start = now - timedelta(days=365 * YEARS)
    span = int((now - start).total_seconds())
    times = []
    for _ in range(count):
        moment = (start + timedelta(seconds=rng.randrange(span))).astimezone(LOCAL_TZ)
        moment = moment.replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59))
        times.append(min(moment, now - timedelta(hours=1)))
    return sorted(times)


def _reserve_numbers(year: int, count: int) -> int:
    """Advance the year's counter by `count`; return the first number reserved."""
    from portal.services.intake.errors import IntakeError
    from portal.services.intake.registration import next_reference

    # next_reference creates and locks the year's row, and takes one number; take the rest.
    first = int(next_reference(year).rsplit("-", 1)[1])
    counter = db.session.get(ReferenceCounter, year)
    if first + count - 1 > REFERENCE_MAX:
        raise IntakeError(f"not enough reference numbers left for {year}")
    counter.last_number = first + count - 1
    db.session.flush()
    return first


def _assign_references(complaints: list[Complaint]) -> None:
    per_year = Counter(c.registered_at.astimezone(LOCAL_TZ).year for c in complaints)
    next_number = {year: _reserve_numbers(year, n) for year, n in sorted(per_year.items())}
    for complaint in complaints:  # in order of registration, as the counter would give them
        year = complaint.registered_at.astimezone(LOCAL_TZ).year
        complaint.reference = f"TS-{year}-{next_number[year]:05d}"
        next_number[year] += 1


def _matter_numbers() -> Counter[int]:
    """The highest matter number used per year (references look like M-2025-0142)."""
    numbers: Counter[int] = Counter()
    for reference in db.session.scalars(select(Matter.reference)):
        parts = reference.split("-")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            numbers[int(parts[1])] = max(numbers[int(parts[1])], int(parts[2]))
    return numbers


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sample(firm: _Firm, random_seed: int, now: datetime) -> Complaint:
    """A complaint like the others, never saved: its acknowledgement is the PDF every seeded
    notice shares (reference number 00000, which registration never gives)."""
    sample = _Generator(random.Random(f"{random_seed}:sample"), firm, Counter()).complaint(
        now - timedelta(days=1), now)
    sample.reference = f"TS-{now.astimezone(LOCAL_TZ).year}-00000"
    return sample


def _follow(complaints: list[Complaint], outcomes: Outcomes, notices: Notices,
            history: History) -> int:
    """What happened to the flushed complaints since, and their analytics rows; returns the
    number of audit events written."""
    courses = outcomes.draw(complaints)
    demo_ballots.write([c.ballot for c in courses if c.ballot is not None])
    notices.write(courses)
    demo_outcome_rows.write(courses)
    events = history.record(courses)
    fact_table.refresh(db.session.connection(), [c.id for c in complaints])
    return events


def seed_complaints(count: int, *, random_seed: int = 2026,
                    progress: Callable[[int], None] | None = None) -> list[str]:
    """Add `count` complaints to the demo firm, each as far along as its age makes likely,
    with their notices and audit events; return their references.

    Call it outside any transaction: it commits one write transaction per BATCH complaints.
    """
    if count <= 0:
        return []
    already = db.session.scalar(select(func.count(Complaint.id))) or 0
    rng = random.Random(f"{random_seed}:{already}")  # a second run adds different complaints
    now = clock.now()
    references: list[str] = []
    ids: list[int] = []
    firm = _firm()
    generator = _Generator(rng, firm, _matter_numbers())
    outcomes = Outcomes(random.Random(f"{random_seed}:{already}:outcomes"), now)
    prevention = Prevention(random.Random(f"{random_seed}:{already}:prevention"), now)
    notices = Notices(render_sample(_sample(firm, random_seed, now)))
    history = History(firm.reception, firm.working_days, notices)
    events = 0
    db.session.commit()  # end the read: each batch is its own write transaction
    for times in _batches(_received_times(rng, count, now), BATCH):
        with write_transaction():
            complaints = [generator.complaint(received, now) for received in times]
            complaints.sort(key=lambda c: c.registered_at)
            _assign_references(complaints)
            db.session.add_all(complaints)
            with fact_table.left_to_caller(db.session()):
                db.session.flush()  # _follow rewrites these complaints' facts
            events += _follow(complaints, outcomes, notices, history)
            prevention.add([c.matter for c in complaints if c.matter is not None], complaints)
            references += [c.reference for c in complaints]
            ids += [c.id for c in complaints]
            if len(references) == count:
                seed_actions(outcomes.rng, now.astimezone(LOCAL_TZ).date())
                audit.record("demo.complaints_seeded", details={
                    "count": count, "first_id": min(ids), "last_id": max(ids),
                    "events": events})
        if progress:
            progress(len(times))
    return references
