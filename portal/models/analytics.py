"""What the analytics read of each registered complaint, stored so that /analytics does not
recompute it from half a dozen tables on every view (services/analytics/fact_table.py keeps a
row per registered complaint, rewritten in the transaction that changes what it is made of).

Only what is costly to derive is stored: the firm's local days, the department, the first
acknowledgement, the first-response clock, the first decision, closing and the latest
satisfaction, and the prevention record of its matter as it stood at receipt (which engagement
expectation was missing, whether a progress report was overdue, whether an engagement step of
the checklist was not done: services/prevention/history.py defines them; NULL without a
matter). What is read directly from the complaint (channel, severity, categories) and
what depends on the day of the view (on time, late or pending; working-day spans, which follow
the calendar's overrides) is computed when read (services/analytics/facts.py).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import db


class ComplaintFact(db.Model):
    __tablename__ = "complaint_fact"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM received (local)
    received_day: Mapped[date]
    department_id: Mapped[int | None] = mapped_column(index=True)
    ack_day: Mapped[date | None]  # first acknowledgement emailed or posted
    due: Mapped[date | None]  # the first-response clock's due day
    response_stopped: Mapped[bool] = mapped_column(default=False)
    response_late: Mapped[bool | None]
    decided_day: Mapped[date | None]  # the first decision
    closed_day: Mapped[date | None]
    satisfaction: Mapped[int | None]  # the latest answered call-back
    # Prevention at receipt (NULL when the complaint has no matter): an engagement expectation
    # with nothing on file, ...
    missing_scope: Mapped[bool | None]
    missing_fees: Mapped[bool | None]
    missing_risks: Mapped[bool | None]
    missing_outcomes: Mapped[bool | None]
    missing_timetable: Mapped[bool | None]
    missing_complaints_procedure: Mapped[bool | None]
    # ... more days without a progress report than the interval (NULL: no day to count from),
    report_overdue: Mapped[bool | None]
    # ... a checklist step due from engagement not ticked.
    checklist_incomplete: Mapped[bool | None]
