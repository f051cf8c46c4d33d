"""The analytics figures against a hand-computed fixture of 30 complaints.

Every expected figure below was worked out by hand from the table in `SPEC` and the 2026
calendar (chinese_calendar 1.11: Mid-Autumn Sep 25-27 off, Sunday Sep 20 worked, National Day
Oct 1-7 off, Saturday Oct 10 worked; Dragon Boat Jun 19, Qingming Apr 6 and Labour Day
May 1-5 off, Saturday May 9 worked). The working-day spans written beside each complaint are
checked against the calendar service's own day-by-day count, so a wrong hand count fails
here, not silently.

Quarter 2026Q3 holds C01-C24 (24 complaints); C25 was received at 00:30 on Oct 1 in Beijing
(Sep 30 in UTC) and belongs to Q4; C26-C30 are Q2. C29 names partner2 as a respondent, so
partner2's figures leave it out while the firm's (the command line's) count it. A draft
received in July counts nowhere.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from portal.clock import LOCAL_TZ
from portal.db import db, writes_by_default
from portal.models import (
    Callback,
    Client,
    Complaint,
    ComplaintRootCause,
    Deadline,
    ImprovementAction,
    Matter,
    Notice,
    OutboxMessage,
    ReferenceCounter,
    RootCause,
    User,
    WorkingDay,
)
from portal.models.resolution import DecidedRemedy, Decision
from portal.models.user import Department
from portal.services import calendar
from portal.services.analytics import calendar_table, figures, filters

TODAY = date(2026, 12, 1)
D = date  # shorter rows below
LAWYER = {"litigation": "王磊", "family": "李娜", "corporate": "赵鹏", "ip": "黄静"}
DEPARTMENT_EN = {"litigation": "Dispute Resolution", "corporate": "Corporate and M&A",
                 "family": "Family and Private Clients", "ip": "Intellectual Property"}

# key: (received (Beijing), channel, severity, categories, department, matter?,
#       acknowledged (day, "mail" | "post") or None, first-response due, clock stopped on,
#       [(decision day, [(remedy, amount)])] (later ones revise), closed on,
#       satisfaction scores (oldest first), root causes)
# Hand-counted working days from receipt: ack / decide / close.
SPEC = {
    # July 1 at 07:00 in Beijing is June 30 in UTC: July, Q3.       1 / 23 / 44
    "C01": (datetime(2026, 7, 1, 7), "phone", "minor", ["communication"], "litigation", True,
            (D(2026, 7, 2), "mail"), D(2026, 7, 8), D(2026, 7, 3),
            [(D(2026, 8, 3), [("explanation", None)])], D(2026, 9, 1), [5],
            ["no_progress_report"]),
    # Friday -> Monday: one working day.                               1 / 25 / 45
    "C02": (datetime(2026, 7, 3, 16), "email", "general", ["fees"], "corporate", True,
            (D(2026, 7, 6), "mail"), D(2026, 7, 10), D(2026, 7, 9),
            [(D(2026, 8, 7), [("partial_refund", "5000")])], D(2026, 9, 4), [4],
            ["fees_not_explained"]),
    # Saturday receipt; department from the respondent (no matter).   1 / - / -
    "C03": (datetime(2026, 7, 4, 11), "web", "minor", ["communication", "delay"], "litigation",
            False, (D(2026, 7, 6), "mail"), D(2026, 7, 10), D(2026, 7, 13), [], None, [], []),
    # Acknowledged by post.                                             3 / 25 / 50
    "C04": (datetime(2026, 7, 6, 9), "phone", "serious", ["competence"], "litigation", True,
            (D(2026, 7, 9), "post"), D(2026, 7, 13), D(2026, 7, 10),
            [(D(2026, 8, 10), [("written_apology", None), ("full_refund", "20000")])],
            D(2026, 9, 14), [3], ["quality_of_work", "missed_deadline"]),
    # Acknowledged the day it came.                                     0 / 17 / 38
    "C05": (datetime(2026, 7, 8, 10), "walk_in", "general", ["attitude"], "family", True,
            (D(2026, 7, 8), "mail"), D(2026, 7, 15), D(2026, 7, 9),
            [(D(2026, 7, 31), [("written_apology", None)])], D(2026, 8, 31), [5],
            ["staff_attitude"]),
    # Mail sent at 01:00 on Monday in Beijing (Sunday in UTC).          1 / - / -
    "C06": (datetime(2026, 7, 10, 22, 30), "email", "minor", ["fees"], "corporate", True,
            (datetime(2026, 7, 13, 1), "mail"), D(2026, 7, 17), D(2026, 7, 15), [], None, [],
            []),
    # Received 07:30 Monday in Beijing (Sunday in UTC); posted on the due day. 5 / 29 / -
    "C07": (datetime(2026, 7, 13, 7, 30), "letter", "serious", ["fees", "communication"], "ip",
            True, (D(2026, 7, 20), "post"), D(2026, 7, 20), D(2026, 7, 21),
            [(D(2026, 8, 21), [])], None, [], []),
    # Never acknowledged (a mail still pending does not count): late.   - / - / -
    "C08": (datetime(2026, 7, 15, 10), "phone", "minor", ["delay"], "litigation", True,
            None, D(2026, 7, 22), D(2026, 7, 17), [], None, [], []),
    # Acknowledged after the due day. An earlier call-back scored 1.    7 / 29 / 52
    "C09": (datetime(2026, 7, 20, 10), "web", "general", ["communication"], "family", True,
            (D(2026, 7, 29), "mail"), D(2026, 7, 27), D(2026, 7, 24),
            [(D(2026, 8, 28), [("explanation", None), ("free_follow_up", None)])],
            D(2026, 9, 30), [1, 2], ["expectations"]),
    # Decision revised: only the second one's remedies count; the first decision's day
    # counts for "to decide".                                           1 / 28 / -
    "C10": (datetime(2026, 7, 24, 10), "email", "critical", ["conflict"], "corporate", True,
            (D(2026, 7, 27), "mail"), D(2026, 7, 31), D(2026, 8, 4),
            [(D(2026, 9, 2), [("full_refund", "50000")]),
             (D(2026, 9, 20), [("full_refund", "30000"), ("disciplinary", None)])],
            None, [], []),
    # Closed at triage, no decision.                                    0 / - / 6
    "C11": (datetime(2026, 7, 28, 10), "phone", "minor", ["communication"], "litigation", True,
            (D(2026, 7, 28), "mail"), D(2026, 8, 4), D(2026, 7, 30), [], D(2026, 8, 5), [], []),
    # Closed after National Day.                                        1 / 24 / 44
    "C12": (datetime(2026, 8, 3, 10), "walk_in", "general", ["fees"], "litigation", True,
            (D(2026, 8, 4), "mail"), D(2026, 8, 10), D(2026, 8, 6),
            [(D(2026, 9, 4), [("partial_refund", "3000")])], D(2026, 10, 9), [4],
            ["fees_not_explained"]),
    "C13": (datetime(2026, 8, 7, 10), "web", "minor", ["attitude"], "family", True,
            (D(2026, 8, 10), "mail"), D(2026, 8, 14), D(2026, 8, 12), [], None, [], []),
    #                                                                   5 / 25 / 43
    "C14": (datetime(2026, 8, 12, 10), "phone", "serious", ["competence", "delay"],
            "litigation", True, (D(2026, 8, 19), "post"), D(2026, 8, 19), D(2026, 8, 20),
            [(D(2026, 9, 16), [("written_apology", None), ("partial_refund", "8000")])],
            D(2026, 10, 16), [3], ["missed_deadline"]),
    #                                                                   1 / 19 / -
    "C15": (datetime(2026, 8, 17, 10), "email", "general", ["communication"], "corporate",
            True, (D(2026, 8, 18), "mail"), D(2026, 8, 24), D(2026, 8, 19),
            [(D(2026, 9, 11), [])], None, [], []),
    "C16": (datetime(2026, 8, 21, 10), "client_relations", "minor", ["fees"], "ip", True,
            (D(2026, 8, 24), "mail"), D(2026, 8, 28), D(2026, 8, 27), [], None, [], []),
    "C17": (datetime(2026, 8, 26, 10), "phone", "general", ["delay"], "litigation", True,
            None, D(2026, 9, 2), D(2026, 9, 3), [], None, [], []),
    #                                                                   1 / 21 / 40
    "C18": (datetime(2026, 8, 31, 10), "web", "minor", ["communication"], "family", True,
            (D(2026, 9, 1), "mail"), D(2026, 9, 7), D(2026, 9, 2),
            [(D(2026, 9, 29), [("explanation", None)])], D(2026, 10, 30), [5],
            ["no_progress_report"]),
    #                                                                   1 / 22 / -
    "C19": (datetime(2026, 9, 4, 10), "email", "serious", ["fees"], "corporate", True,
            (D(2026, 9, 7), "mail"), D(2026, 9, 11), D(2026, 9, 10),
            [(D(2026, 10, 12), [("partial_refund", "12000")])], None, [], []),
    "C20": (datetime(2026, 9, 11, 10), "phone", "general", ["attitude"], "litigation", True,
            (D(2026, 9, 14), "mail"), D(2026, 9, 18), D(2026, 9, 16), [], None, [], []),
    # Friday -> Monday over the worked Sunday Sep 20: two.              2 / 14 / 36
    "C21": (datetime(2026, 9, 18, 10), "walk_in", "minor", ["communication"], "litigation",
            True, (D(2026, 9, 21), "mail"), D(2026, 9, 24), D(2026, 9, 22),
            [(D(2026, 10, 14), [("written_apology", None)])], D(2026, 11, 13), [4],
            ["staff_attitude"]),
    # Thursday -> Monday over Mid-Autumn: one.                          1 / 13 / -
    "C22": (datetime(2026, 9, 24, 10), "email", "general", ["fees"], "family", True,
            (D(2026, 9, 28), "mail"), D(2026, 10, 9), D(2026, 9, 30),
            [(D(2026, 10, 20), [("explanation", None)])], None, [], []),
    # Received on the Mid-Autumn holiday.                               1 / - / -
    "C23": (datetime(2026, 9, 25, 10), "web", "minor", ["delay"], "corporate", True,
            (D(2026, 9, 28), "mail"), D(2026, 10, 9), D(2026, 10, 8), [], None, [], []),
    # Tuesday -> Thursday over National Day: two.                      2 / 20 / -
    "C24": (datetime(2026, 9, 29, 10), "phone", "critical", ["confidentiality"], "litigation",
            True, (D(2026, 10, 8), "mail"), D(2026, 10, 9), D(2026, 10, 12),
            [(D(2026, 11, 2), [("full_refund", "15000"), ("internal_criticism", None)])],
            None, [], []),
    # 00:30 on Oct 1 in Beijing (Sep 30 in UTC): October, Q4.
    "C25": (datetime(2026, 10, 1, 0, 30), "email", "minor", ["communication"], "litigation",
            True, (D(2026, 10, 8), "mail"), D(2026, 10, 14), D(2026, 10, 9), [], None, [], []),
    # Q2. Friday before Qingming -> Tuesday: one.                       1 / 19 / 38
    "C26": (datetime(2026, 4, 3, 10), "phone", "minor", ["fees"], "litigation", True,
            (D(2026, 4, 7), "mail"), D(2026, 4, 10), D(2026, 4, 8),
            [(D(2026, 5, 6), [("partial_refund", "2000")])], D(2026, 6, 1), [4],
            ["fees_not_explained"]),
    # Over Labour Day: one.                                             1 / - / -
    "C27": (datetime(2026, 4, 30, 10), "email", "general", ["communication"], "corporate",
            True, (D(2026, 5, 6), "mail"), D(2026, 5, 8), D(2026, 5, 7), [], None, [], []),
    #                                                                   - / 22 / 42
    "C28": (datetime(2026, 5, 20, 10), "web", "serious", ["competence"], "family", True,
            None, D(2026, 5, 27), D(2026, 5, 29),
            [(D(2026, 6, 22), [("written_apology", None)])], D(2026, 7, 20), [2],
            ["quality_of_work"]),
    # partner2 is a respondent: hidden from partner2.                  1 / - / -
    "C29": (datetime(2026, 6, 18, 10), "phone", "minor", ["delay"], "litigation", True,
            (D(2026, 6, 22), "mail"), D(2026, 6, 26), D(2026, 6, 23), [], None, [], []),
    "C30": (datetime(2026, 6, 30, 20), "walk_in", "general", ["attitude"], "ip", True,
            (D(2026, 7, 1), "mail"), D(2026, 7, 7), D(2026, 7, 2), [], None, [], []),
}
SPANS = {  # hand-counted working days from receipt: (ack, decide, close)
    "C01": (1, 23, 44), "C02": (1, 25, 45), "C03": (1, None, None), "C04": (3, 25, 50),
    "C05": (0, 17, 38), "C06": (1, None, None), "C07": (5, 29, None),
    "C08": (None, None, None), "C09": (7, 29, 52), "C10": (1, 28, None),
    "C11": (0, None, 6), "C12": (1, 24, 44), "C13": (1, None, None), "C14": (5, 25, 43),
    "C15": (1, 19, None), "C16": (1, None, None), "C17": (None, None, None),
    "C18": (1, 21, 40), "C19": (1, 22, None), "C20": (1, None, None), "C21": (2, 14, 36),
    "C22": (1, 13, None), "C23": (1, None, None), "C24": (2, 20, None),
    "C25": (1, None, None), "C26": (1, 19, 38), "C27": (1, None, None),
    "C28": (None, 22, 42), "C29": (1, None, None), "C30": (1, None, None),
}
ACTIONS = [  # (status, due): today is Dec 1
    ("planned", D(2026, 11, 15)),  # overdue
    ("in_progress", D(2027, 1, 31)),  # open
    ("planned", D(2026, 12, 1)),  # due today: open, not overdue
    ("done", D(2026, 10, 1)),
    ("dropped", D(2026, 9, 1)),
]


def _moment(value: date | datetime, hour: int = 15) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=LOCAL_TZ)
    return datetime.combine(value, time(hour), tzinfo=LOCAL_TZ)


def build_fixture() -> dict[str, int]:
    """The 30 complaints (and a draft, and five improvement actions); returns key -> id.
    Call inside a write (writes_by_default)."""
    users = {u.name: u for u in db.session.scalars(select(User))}
    by_username = {u.username: u for u in users.values() if u.username}
    partner, partner2 = by_username["partner"], by_username["partner2"]
    departments = {d.name_en: d for d in db.session.scalars(select(Department))}
    causes = {c.code: c for c in db.session.scalars(select(RootCause))}
    client = Client(name="测试客户", language="zh", email="client@example.com")
    matters = {}
    for code, lawyer in LAWYER.items():
        matters[code] = Matter(reference=f"M-T-{code}", title=f"测试事项 {code}",
                               department_id=departments[DEPARTMENT_EN[code]].id,
                               responsible_lawyer=users[lawyer], partner=partner, client=client)
    ids = {}
    for number, (key, spec) in enumerate(SPEC.items(), start=1):
        (received, channel, severity, categories, department, with_matter, ack, due, stopped,
         decisions, closed, scores, root_causes) = spec
        received = _moment(received)
        respondents = [users[LAWYER[department]]] + ([partner2] if key == "C29" else [])
        complaint = Complaint(
            reference=f"TS-2026-{number:05d}", state="closed" if closed else "investigating",
            channel=channel, received_at=received, registered_at=received + timedelta(hours=1),
            complainant=client, matter=matters[department] if with_matter else None,
            respondents=respondents, severity=severity, categories=categories,
            closed_at=_moment(closed) if closed else None, created_by_id=partner.id)
        db.session.add(complaint)
        db.session.flush()
        ids[key] = complaint.id
        stop_moment = _moment(stopped)
        db.session.add(Deadline(complaint_id=complaint.id, kind="first_response", due=due,
                                stopped_at=stop_moment, stopped_late=stopped > due))
        _acknowledge(complaint, ack, key)
        for version, (day, remedies) in enumerate(decisions, start=1):
            db.session.add(Decision(
                complaint_id=complaint.id, number=version, client_summary="决定",
                decided_by_id=partner.id, decided_at=_moment(day, 11),
                remedies=[DecidedRemedy(kind=kind, amount=Decimal(amount) if amount else None,
                                        currency="CNY", due=day + timedelta(days=30))
                          for kind, amount in remedies]))
        for offset, score in enumerate(scores):
            db.session.add(Callback(complaint_id=complaint.id, due=closed, status="satisfied",
                                    satisfaction=score, method="phone",
                                    answered_at=_moment(closed) - timedelta(days=5 - offset)))
        for code in root_causes:
            db.session.add(ComplaintRootCause(complaint_id=complaint.id,
                                              root_cause_id=causes[code].id))
    db.session.add(ReferenceCounter(year=2026, last_number=len(SPEC)))
    db.session.add(Complaint(state="draft", channel="phone", complainant=client,
                             received_at=_moment(D(2026, 7, 15)), created_by_id=partner.id,
                             respondents=[users["王磊"]], categories=["fees"]))
    for status, due in ACTIONS:
        db.session.add(ImprovementAction(title=f"措施 {status}", kind="training",
                                         owner_id=partner.id, due=due, status=status,
                                         created_by_id=partner.id))
    db.session.flush()
    return ids


def _acknowledge(complaint: Complaint, ack, key: str) -> None:
    if key == "C08":  # queued, never sent: no acknowledgement yet
        db.session.add(OutboxMessage(kind="acknowledgement", recipient="client@example.com",
                                     subject="回执", body_text="回执", complaint_id=complaint.id))
    if ack is None:
        return
    day, how = ack
    if how == "mail":
        db.session.add(OutboxMessage(kind="acknowledgement", recipient="client@example.com",
                                     subject="回执", body_text="回执", complaint_id=complaint.id,
                                     status="sent", sent_at=_moment(day, 10)))
    else:
        db.session.add(Notice(complaint_id=complaint.id, kind="acknowledgement", version=1,
                              stored_name=f"ack-{key}.pdf", sha256="0" * 64, size=1,
                              delivery="post", posted_on=day))


@pytest.fixture
def ctx(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    with app.app_context(), writes_by_default():
        yield


@pytest.fixture
def fixture_ids(ctx):
    ids = build_fixture()
    db.session.commit()
    calendar_table.ensure(D(2026, 1, 1), D(2026, 12, 31))
    return ids


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _department_id(code: str) -> str:
    return str(db.session.scalar(select(Department.id).where(
        Department.name_en == DEPARTMENT_EN[code])))


def q3(**extra) -> filters.Criteria:
    return filters.parse({"period": "2026Q3", **extra}, TODAY)


def test_the_hand_counted_spans_agree_with_the_calendar_service(ctx):
    for key, spec in SPEC.items():
        received = spec[0].date()
        ends = (spec[6][0] if spec[6] else None,
                spec[9][0][0] if spec[9] else None, spec[10])
        for end, counted in zip(ends, SPANS[key], strict=True):
            end = end.date() if isinstance(end, datetime) else end
            expected = None if end is None else calendar.working_days_between(received, end)
            assert counted == expected, (key, end)


def test_working_day_table_numbers_days_and_spans_are_differences(fixture_ids):
    rows = dict(db.session.execute(select(WorkingDay.day, WorkingDay.number)).all())
    assert rows[D(2026, 9, 21)] - rows[D(2026, 9, 18)] == 2  # the worked Sunday counts
    assert rows[D(2026, 9, 27)] == rows[D(2026, 9, 24)]  # Mid-Autumn: no working day
    assert rows[D(2026, 10, 8)] - rows[D(2026, 9, 30)] == 1  # National Day
    assert calendar_table.ensure(D(2026, 3, 1), D(2026, 11, 30)) is False  # already there


def test_quarter_figures_match_the_hand_computed_values(fixture_ids):
    result = figures.compute(_user("partner2"), q3(), TODAY)
    assert result.total == 24
    assert result.by_month() == [("2026-07", 11), ("2026-08", 7), ("2026-09", 6)]
    assert result.by("channel") == {"phone": 8, "email": 6, "web": 5, "walk_in": 3,
                                    "letter": 1, "client_relations": 1}
    assert result.by("severity") == {"minor": 10, "general": 8, "serious": 4, "critical": 2}
    assert result.by("category") == {"communication": 8, "fees": 7, "delay": 5,
                                     "attitude": 3, "competence": 2, "conflict": 1,
                                     "confidentiality": 1}
    assert result.by("department") == {_department_id("litigation"): 11,
                                       _department_id("corporate"): 6,
                                       _department_id("family"): 5, _department_id("ip"): 2}
    causes = {str(c.id): c.code for c in db.session.scalars(select(RootCause))}
    assert {causes[k]: n for k, n in result.by("root_cause").items()} == {
        "no_progress_report": 2, "fees_not_explained": 2, "quality_of_work": 1,
        "missed_deadline": 2, "staff_attitude": 2, "expectations": 1}
    assert result.ack == {"on_time": 21, "late": 3}
    assert result.ack_share == pytest.approx(21 / 24)
    assert result.response == {"on_time": 18, "late": 6}
    assert result.response_share == pytest.approx(0.75)


def test_working_day_medians_and_90th_percentiles(fixture_ids):
    spans = figures.compute(_user("partner2"), q3(), TODAY).spans
    # ack, 22 values: 0 0 1x14 2 2 3 5 5 7 -> median (v11+v12)/2 = 1; p90 at 19.9 = 3 + 0.9*2
    assert spans["acknowledge"] == figures.Span(22, 1.0, pytest.approx(4.8))
    # decide, 15 values: 13 14 17 19 20 21 22 23 24 25 25 25 28 29 29 -> v8; p90 at 13.6
    assert spans["decide"] == figures.Span(15, 23.0, pytest.approx(28.6))
    # close, 10 values: 6 36 38 40 43 44 44 45 50 52 -> (43+44)/2; p90 at 9.1 = 50 + 0.1*2
    assert spans["close"] == figures.Span(10, 43.5, pytest.approx(50.2))


def test_remedies_of_current_decisions_refunds_satisfaction_and_actions(fixture_ids):
    result = figures.compute(_user("partner2"), q3(), TODAY)
    assert {kind: money.count for kind, money in result.remedies.items()} == {
        "explanation": 4, "partial_refund": 4, "full_refund": 3, "written_apology": 4,
        "free_follow_up": 1, "disciplinary": 1, "internal_criticism": 1}
    assert result.remedies["partial_refund"].amount == Decimal("28000")
    assert result.remedies["full_refund"].amount == Decimal("65000")  # 20000 + 30000 + 15000
    assert result.refunds == {"CNY": figures.Money(7, Decimal("93000"))}
    assert result.satisfaction == {5: 3, 4: 3, 3: 2, 2: 1}  # C09's latest answer (2) counts
    assert result.satisfaction_mean == pytest.approx(35 / 9)
    assert result.actions == {"overdue": 1, "open": 2}


def test_filters_narrow_the_figures(fixture_ids):
    partner2 = _user("partner2")
    family = figures.compute(partner2, q3(department=_department_id("family")), TODAY)
    assert family.total == 5
    assert figures.compute(partner2, q3(severity="minor"), TODAY).total == 10
    both = figures.compute(partner2, q3(department=_department_id("family"),
                                        severity="general"), TODAY)
    assert both.total == 3 and both.by("channel") == {"walk_in": 1, "web": 1, "email": 1}
    october = figures.compute(partner2, filters.parse({"from": "2026-10", "to": "2026-10"},
                                                      TODAY), TODAY)
    assert october.total == 1 and october.by_month() == [("2026-10", 1)]


def test_the_visibility_rule_applies_and_the_firm_sees_everything(fixture_ids):
    q2 = filters.parse({"period": "2026Q2"}, TODAY)
    mine = figures.compute(_user("partner2"), q2, TODAY)
    firm = figures.compute(None, q2, TODAY)
    assert mine.total == 4 and firm.total == 5
    assert mine.by_month() == [("2026-04", 2), ("2026-05", 1), ("2026-06", 1)]
    assert mine.ack == {"on_time": 3, "late": 1} and firm.ack == {"on_time": 4, "late": 1}
    assert mine.response == {"on_time": 3, "late": 1}
    whole_year = figures.compute(None, filters.parse({"period": "2026"}, TODAY), TODAY)
    assert whole_year.total == 30  # the draft is not a complaint yet


def test_pending_deadlines_are_not_judged(fixture_ids):
    """Seen from Jul 22, C08 (due that day) and C17 (due Sep 2), never acknowledged, are
    pending, not late; C09, acknowledged after its due day, is late already."""
    result = figures.compute(None, q3(), D(2026, 7, 22))
    assert result.ack == {"on_time": 21, "late": 1, "pending": 2}
    assert result.ack_share == pytest.approx(21 / 22)


def test_an_override_renumbers_the_table_from_its_day(fixture_ids, ctx):
    before = figures.compute(None, q3(), TODAY).spans["decide"]
    calendar.set_override(None, D(2026, 9, 25), True, "worked")  # C22's ack now 2 days
    db.session.commit()
    assert db.session.scalar(select(WorkingDay.day).order_by(WorkingDay.day.desc())
                             .limit(1)) < D(2026, 9, 25)  # the hook dropped the rows
    calendar_table.ensure(D(2026, 1, 1), D(2026, 12, 31))
    assert calendar_table.span_days(D(2026, 9, 24), D(2026, 9, 28)) == 2
    after = figures.compute(None, q3(), TODAY).spans["decide"]
    assert after.n == before.n and after.median == before.median  # C22 13 -> 14, C21 14 -> 15


@contextmanager
def _statements():
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_one_statement_whatever_the_number_of_complaints(fixture_ids):
    from portal.demo_complaints import seed_complaints

    partner2 = _user("partner2")
    criteria = filters.parse({"from": "2016-01", "to": "2026-12"}, TODAY)
    calendar_table.ensure(criteria.start, criteria.end)
    with _statements() as small:
        figures.compute(partner2, criteria, TODAY)
    db.session.commit()
    seed_complaints(270)
    with _statements() as large:
        result = figures.compute(partner2, criteria, TODAY)
    assert len(small) == len(large)  # (the rest reloads the viewer after the commit)
    assert [s for s in large if "complaint" in s.lower()] == [large[-1]]
    assert result.total > 150  # most of the 270 seeded (partner2 may not see them all)


@pytest.mark.parametrize(("args", "field", "words"), [
    ({"period": "2026Q5"}, "period", "“2026Q5” is not a period"),
    ({"period": "last week"}, "period", "is not a period"),
    ({"from": "2026-13"}, "from", "“2026-13” is not a month"),
    ({"from": "2026-09", "to": "2026-03"}, "to", "ends in 2026-03, before it starts in 2026-09"),
    ({"department": "9999"}, "department", "There is no department “9999”"),
    ({"department": "x'; drop"}, "department", "There is no department"),
    ({"severity": "apocalyptic"}, "severity", "is not a severity"),
])
def test_bad_filters_name_what_is_wrong(ctx, args, field, words):
    with pytest.raises(filters.FilterError) as raised:
        filters.parse(args, TODAY, departments={1, 2, 3, 4})
    assert raised.value.field == field and words in raised.value.message


def test_periods_quarters_years_months_and_the_default(ctx):
    assert filters.parse({"period": "2026Q3"}, TODAY).months == ["2026-07", "2026-08",
                                                                "2026-09"]
    assert filters.parse({"period": "2026"}, TODAY).end == D(2026, 12, 31)
    assert filters.parse({"period": "2026-02"}, TODAY).end == D(2026, 2, 28)
    default = filters.parse({}, TODAY)
    assert default.months[0] == "2026-01" and default.months[-1] == "2026-12"
    assert filters.previous_quarter("2026Q1") == "2025Q4"
