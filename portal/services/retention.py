"""Retention: complaints finished longer ago than COMPLAINT_RETENTION_YEARS are anonymised.

A complaint is due when it is closed, withdrawn or discarded and the moment it was (its
`closed_at`, `withdrawn_at` or `discarded_at`) lies more than the period before now
(`portal.clock`). One without that moment is never due. `Complaint.anonymized_at` marks one
already done (the pages then withhold its matter, and its emails cannot be sent again), and
the `complaint.anonymized` audit event keeps it in the chain for good.

Anonymising one complaint:

- Every free text of the record and of its rows (narrative, place, remedy details, reasons,
  assessment, allegations and findings, statements, notes, ballots, decisions, answers,
  remedy tasks, call-backs, the emails received and sent, the submitted form, the draft
  bulletins' source) goes through the redaction engine with every party the record names:
  the text keeps its shape, with labels (客户甲, [电话]) instead of names and numbers.
- The complainant becomes a label with no phone, email, ID number or address. A client that
  another complaint or a matter also names is left as it is: the complaint gets a fresh
  anonymous client instead (the matters' client register has its own rules).
- Evidence rows are removed and their files (and their cached previews) deleted: the pages
  then list nothing that leads nowhere. Notice rows stay, since the analytics count the
  acknowledgements posted and the decisions point at their notices, but their PDFs are
  deleted. Files go only after the commit (`db.remove_after_commit`).
- The client's page link is revoked, and mail still waiting to go to the complaint's people
  is not sent.
- Nothing the analytics read changes: states, dates, categories, severities, respondents,
  decisions and remedies with their amounts, call-back scores, root causes, acknowledgements
  sent or posted. `complaint_fact` is rewritten by its hook from the same values.

The redaction is computed in a read first (the engine is the slow part); the write, one
short transaction per complaint, reloads the rows and uses what was computed for every text
that has not changed meanwhile (and redacts again any that has).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, exists, func, inspect, select

from portal import clock
from portal.db import db, remove_after_commit, write_transaction
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.complaint import Complaint, Evidence, State
from portal.models.deadline import ClockPause
from portal.models.followup import CallAttempt, Callback, ComplaintRootCause
from portal.models.investigation import (
    Allegation,
    ConflictDeclaration,
    FirstResponse,
    InterviewNote,
    Statement,
)
from portal.models.mailin import InboundMail
from portal.models.matter import Client, Matter
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.resolution import (
    Ballot,
    BallotMember,
    BallotProposal,
    ClientAnswer,
    DecidedRemedy,
    Decision,
    NegotiationRound,
    ProposedRemedy,
    RemedyTask,
    Vote,
)
from portal.privacy import MAX_CHARS, Party, redact, warm_up
from portal.privacy.labels import entity_label
from portal.services import audit
from portal.services import evidence as evidence_service
from portal.services import notices as notice_service
from portal.services.bulletins.parties import parties_of
from portal.services.investigation import previews

ACTION = "complaint.anonymized"
ACTOR_LABEL = "retention"
FINISHED = (State.CLOSED, State.WITHDRAWN, State.DISCARDED)
BATCH = 50

# The free texts of each kind of row (the JSON columns have their own rules below).
TEXT_FIELDS: dict[type, tuple[str, ...]] = {
    Complaint: ("narrative", "occurred_place", "remedy_details", "confirmation_override_reason",
                "correction_requested", "confirmation_note", "discard_reason", "assessment",
                "closure_reason", "withdrawal_reason"),
    Allegation: ("text", "reasoning", "remedy_notes"),
    ConflictDeclaration: ("reason",),
    Statement: ("text",),
    InterviewNote: ("participants", "text"),
    FirstResponse: ("summary", "next_steps"),
    ClockPause: ("reason",),
    Ballot: ("revision_note", "resolution_reason"),
    BallotProposal: ("rationale",),
    ProposedRemedy: ("scope",),
    BallotMember: ("recusal_note",),
    Vote: ("comment",),
    Decision: ("client_summary", "reason"),
    DecidedRemedy: ("scope",),
    ClientAnswer: ("reason",),
    NegotiationRound: ("discussion",),
    RemedyTask: ("letter_text", "notes"),
    ComplaintRootCause: ("text",),
    Callback: ("open_issue", "notes"),
    CallAttempt: ("notes",),
    InboundMail: ("subject", "body"),
    OutboxMessage: ("recipient", "recipient_name", "subject", "body_text", "body_html",
                    "last_error"),
    Bulletin: ("source_text",),
}
# The submitted form's fields that are codes, not words: kept as they are.
_PAYLOAD_CODES = frozenset({"language", "occurred_on", "remedies", "consent"})
_PAYLOAD_CLEARED = frozenset({"phone", "email"})
_OWNED = (Allegation, ConflictDeclaration, Statement, InterviewNote, FirstResponse, ClockPause,
          Ballot, Decision, ClientAnswer, NegotiationRound, RemedyTask, ComplaintRootCause,
          Callback, InboundMail, OutboxMessage)


# -- which complaints are due ------------------------------------------------------------------

def cutoff(years: int | None = None, now: datetime | None = None) -> datetime:
    """The moment before which a finished complaint is due: `years` calendar years ago."""
    years = int(current_app.config["COMPLAINT_RETENTION_YEARS"] if years is None else years)
    now = now or clock.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def finished_at():
    """The moment the complaint was finished, as SQL (NULL while it is not)."""
    return case((Complaint.state == State.CLOSED.value, Complaint.closed_at),
                (Complaint.state == State.WITHDRAWN.value, Complaint.withdrawn_at),
                (Complaint.state == State.DISCARDED.value, Complaint.discarded_at),
                else_=None)


def anonymized():
    """The complaint was anonymised, as SQL."""
    return Complaint.anonymized_at.is_not(None)


def was_anonymized(complaint_id: int) -> bool:
    """Read in a statement of its own: on PostgreSQL it sees what committed until now."""
    return db.session.scalar(
        select(Complaint.anonymized_at).where(Complaint.id == complaint_id)) is not None


def due_condition(before: datetime):
    return and_(Complaint.state.in_([s.value for s in FINISHED]), finished_at() < before,
                ~anonymized())


@dataclass(frozen=True)
class Due:
    """A complaint the run would anonymise, as the dry run lists it."""

    id: int
    label: str
    state: str
    finished_at: datetime
    evidence: int
    notices: int


def count_due(before: datetime) -> int:
    return db.session.scalar(select(func.count(Complaint.id)).where(due_condition(before))) or 0


def due(before: datetime, *, after_id: int = 0, limit: int = BATCH) -> list[Due]:
    """The next `limit` due complaints by id, after `after_id` (one batch of a run)."""
    evidence = (select(func.count(Evidence.id)).where(Evidence.complaint_id == Complaint.id)
                .scalar_subquery())
    notice_files = (select(func.count(Notice.id)).where(Notice.complaint_id == Complaint.id)
                    .scalar_subquery())
    rows = db.session.execute(
        select(Complaint.id, Complaint.reference, Complaint.state, finished_at(), evidence,
               notice_files)
        .where(due_condition(before), Complaint.id > after_id)
        .order_by(Complaint.id).limit(limit)).all()
    return [Due(id_, reference or f"D{id_}", state, moment, n_evidence, n_notices)
            for id_, reference, state, moment, n_evidence, n_notices in rows]


def batches(before: datetime, size: int = BATCH) -> Iterator[list[Due]]:
    """The due complaints batch by batch (each batch read afresh, after the previous one)."""
    after = 0
    while True:
        batch = due(before, after_id=after, limit=size)
        if not batch:
            return
        yield batch
        after = batch[-1].id


# -- what the record names -------------------------------------------------------------------

def _rows(complaint: Complaint) -> list[Any]:
    """The complaint and every row of its record that holds free text."""
    rows: list[Any] = [complaint]
    for model in _OWNED:
        rows += db.session.scalars(select(model).where(model.complaint_id == complaint.id)
                                   .order_by(*inspect(model).primary_key))
    ballots = [row.id for row in rows if isinstance(row, Ballot)]
    decisions = [row.id for row in rows if isinstance(row, Decision)]
    callbacks = [row.id for row in rows if isinstance(row, Callback)]
    if ballots:
        proposals = list(db.session.scalars(select(BallotProposal).where(
            BallotProposal.ballot_id.in_(ballots)).order_by(BallotProposal.id)))
        rows += proposals
        if proposals:
            rows += db.session.scalars(select(ProposedRemedy).where(
                ProposedRemedy.proposal_id.in_([p.id for p in proposals]))
                .order_by(ProposedRemedy.id))
        rows += db.session.scalars(select(BallotMember).where(
            BallotMember.ballot_id.in_(ballots)).order_by(BallotMember.ballot_id,
                                                          BallotMember.user_id))
        rows += db.session.scalars(select(Vote).where(Vote.ballot_id.in_(ballots))
                                   .order_by(Vote.id))
    if decisions:
        rows += db.session.scalars(select(DecidedRemedy).where(
            DecidedRemedy.decision_id.in_(decisions)).order_by(DecidedRemedy.id))
    if callbacks:
        rows += db.session.scalars(select(CallAttempt).where(
            CallAttempt.callback_id.in_(callbacks)).order_by(CallAttempt.id))
    rows += db.session.scalars(select(Bulletin).where(
        Bulletin.complaint_id == complaint.id, Bulletin.status == BulletinStatus.DRAFT.value)
        .order_by(Bulletin.id))
    return rows


def _client_party(complaint: Complaint, mails: list[InboundMail]) -> Party:
    client = complaint.complainant
    if client is None:
        return Party(role="client")
    payload = complaint.submitted_payload or {}
    aliases = {str(payload.get("name") or "").strip()}
    address = (client.email or "").strip().lower()
    aliases |= {(m.sender_name or "").strip() for m in mails
                if address and (m.sender or "").strip().lower() == address}
    aliases -= {"", client.name}
    return Party(role="client", name="" if client.organisation else client.name,
                 organisation=client.name if client.organisation else "",
                 aliases=tuple(sorted(aliases)), phone=client.phone or "",
                 email=client.email or "", id_number=client.id_number or "",
                 address=client.address or "")


def parties(complaint: Complaint, rows: list[Any]) -> list[Party]:
    """Everyone the record names: the bulletins' parties (the client, the lawyers, the staff)
    with the names the client used elsewhere, and the other senders of its emails."""
    mails = [row for row in rows if isinstance(row, InboundMail)]
    client = _client_party(complaint, mails)
    if complaint.complainant is not None:
        known = parties_of(complaint)[1:]
    else:  # a discarded draft may have no complainant
        nobody = SimpleNamespace(name="", organisation=False, phone=None, email=None,
                                 id_number=None, address=None)
        known = parties_of(_Standing(complaint, nobody))[1:]
    client_address = client.email.lower()
    others = {(m.sender_name or "", (m.sender or "").lower()) for m in mails
              if (m.sender or "").lower() != client_address or not client_address}
    known += [Party(role="other", name=name, email=sender) for name, sender in sorted(others)
              if name or sender]
    return [client, *known]


class _Standing:
    """A complaint seen with another complainant (parties_of reads these attributes)."""

    def __init__(self, complaint: Complaint, client: Any) -> None:
        self.complainant = client
        self.respondents = complaint.respondents
        self.matter = complaint.matter
        self.handler = complaint.handler
        self.assignments = complaint.assignments
        self.decisions = complaint.decisions


def client_label(client: Client | None) -> str:
    language = "en" if client is not None and client.language == "en" else "zh"
    role = "organisation" if client is not None and client.organisation else "client"
    return entity_label(role, 0, language)


# -- redacting ---------------------------------------------------------------------------------

def redact_text(text: str, party_list: list[Party]) -> str:
    """The engine's text; a text over its limit is redacted in pieces cut at line ends."""
    if not text or not text.strip():
        return text
    if len(text) <= MAX_CHARS:
        return redact(text, party_list).text
    pieces, start = [], 0
    while start < len(text):
        end = min(start + MAX_CHARS, len(text))
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        pieces.append(redact(text[start:end], party_list).text)
        start = end
    return "".join(pieces)


@dataclass
class _Context:
    parties: list[Party]
    label: str

    def text(self, value: Any) -> Any:
        return redact_text(value, self.parties) if isinstance(value, str) else value


def _payload(value: Any, context: _Context) -> Any:
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        if key in _PAYLOAD_CLEARED:
            result[key] = ""  # the page shows "—", as for a field left empty
        elif key == "name":
            result[key] = context.label if item else item
        elif key in _PAYLOAD_CODES:
            result[key] = item
        else:
            result[key] = _deep(item, context)
    return result


def _deep(value: Any, context: _Context) -> Any:
    if isinstance(value, str):
        return context.text(value)
    if isinstance(value, list):
        return [_deep(item, context) for item in value]
    if isinstance(value, dict):
        return {key: _deep(item, context) for key, item in value.items()}
    return value


def _problems(value: Any, context: _Context) -> Any:
    """The received email's problems: codes stay, the names they quote (files) go through
    the engine."""
    if not isinstance(value, list):
        return value
    return [{key: (item if key in ("code", "reason") else _deep(item, context))
             for key, item in problem.items()} if isinstance(problem, dict) else problem
            for problem in value]


def _replacements(value: Any, context: _Context) -> Any:
    """A draft bulletin's replacements keep their labels; the words replaced are redacted."""
    if not isinstance(value, list):
        return value
    return [{**entry, "original": context.text(entry.get("original"))}
            if isinstance(entry, dict) else entry for entry in value]


JSON_FIELDS: dict[type, dict[str, Callable[[Any, _Context], Any]]] = {
    Complaint: {"submitted_payload": _payload},
    InboundMail: {"problems": _problems},
    Bulletin: {"replacements": _replacements},
}


def _fit(model: type, name: str, value: Any) -> Any:
    """A redacted text cut to its column's length (labels can be longer than the words)."""
    length = getattr(model.__table__.c[name].type, "length", None)
    if isinstance(value, str) and length and len(value) > length:
        return value[:length]
    return value


def _fields(row: Any) -> Iterator[tuple[str, Callable[[Any, _Context], Any]]]:
    kind = type(row)
    for name in TEXT_FIELDS.get(kind, ()):
        yield name, lambda value, context: context.text(value)
    yield from JSON_FIELDS.get(kind, {}).items()


def _key(row: Any, name: str) -> tuple:
    return (type(row).__tablename__, inspect(row).identity, name)


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass
class Plan:
    """What the read computed: for each field, its value then and its redacted value."""

    complaint_id: int
    parties: list[Party]
    label: str
    values: dict[tuple, tuple[str, Any]] = field(default_factory=dict)


def plan(complaint: Complaint) -> Plan:
    """Redact every text of the record (reads only: run it before the write begins)."""
    rows = _rows(complaint)
    context = _Context(parties(complaint, rows), client_label(complaint.complainant))
    result = Plan(complaint.id, context.parties, context.label)
    for row in rows:
        for name, transform in _fields(row):
            value = getattr(row, name)
            if value is None:
                continue
            result.values[_key(row, name)] = (_frozen(value), transform(value, context))
    return result


# -- anonymising one complaint -----------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    complaint_id: int
    texts: int  # fields rewritten
    evidence: int  # evidence rows removed with their files
    notice_files: int
    client_replaced: bool  # a fresh anonymous client (the old one is named elsewhere)


def _client(complaint: Complaint, label: str) -> bool:
    """Anonymise the complainant; True when a fresh client stands in for a shared one."""
    client = complaint.complainant
    if client is None:
        return False
    shared = db.session.scalar(select(
        exists(select(Complaint.id).where(Complaint.complainant_id == client.id,
                                          Complaint.id != complaint.id))
        | exists(select(Matter.id).where(Matter.client_id == client.id))))
    if shared:
        complaint.complainant = Client(name=label, language=client.language,
                                       organisation=client.organisation,
                                       created_at=client.created_at)
        return True
    client.name = label
    client.phone = client.email = client.id_number = client.address = None
    return False


def _files(complaint: Complaint, rows: list[Any]) -> tuple[int, int]:
    """Remove the evidence rows, keep the notices without their PDFs; every file is deleted
    once the transaction commits."""
    items = list(db.session.scalars(select(Evidence).where(Evidence.complaint_id == complaint.id)))
    ids = [item.id for item in items]
    if ids:
        for row in rows:
            if isinstance(row, RemedyTask) and row.receipt_evidence_id in ids:
                row.receipt_evidence_id = None
            if isinstance(row, InboundMail) and row.original_id in ids:
                row.original_id = None
        db.session.flush()  # the references go before the rows they name
    paths: list[Path] = []
    kept_hashes = set(db.session.scalars(select(Evidence.sha256).where(
        Evidence.sha256.in_({item.sha256 for item in items}),
        Evidence.complaint_id != complaint.id))) if items else set()
    for item in items:
        with suppress(evidence_service.EvidenceError):  # not a name the portal made
            paths.append(evidence_service.path_of(item))
        if item.sha256 not in kept_hashes:
            try:
                preview = previews.cached(item.sha256)
            except previews.PreviewFailed:
                preview = None
            if preview is not None:
                paths += [preview, preview.with_suffix(".failed")]
        db.session.delete(item)
    stored = list(db.session.scalars(select(Notice).where(Notice.complaint_id == complaint.id)))
    paths += [notice_service.path_of(notice) for notice in stored]
    db.session.flush()
    for path in paths:
        remove_after_commit(path)
    return len(items), len(stored)


def _apply(row: Any, made: Plan, context: _Context) -> int:
    changed = 0
    for name, transform in _fields(row):
        value = getattr(row, name)
        if value is None:
            continue
        before, after = made.values.get(_key(row, name), (None, None))
        new = after if before == _frozen(value) else transform(value, context)
        new = _fit(type(row), name, new)
        if _frozen(new) != _frozen(value):
            setattr(row, name, new)
            changed += 1
    return changed


def anonymize(made: Plan, before: datetime) -> Outcome | None:
    """Anonymise one complaint in one write transaction (None when it is no longer due: done
    meanwhile, or reopened). Its files are deleted once the transaction has committed."""
    with write_transaction():
        complaint = db.session.scalar(select(Complaint).where(
            Complaint.id == made.complaint_id, due_condition(before)).with_for_update())
        if complaint is None or was_anonymized(made.complaint_id):
            return None  # the second statement sees a run that committed while this waited
        rows = _rows(complaint)
        context = _Context(made.parties, made.label)
        texts = sum(_apply(row, made, context) for row in rows)
        for row in rows:
            if isinstance(row, InboundMail):
                row.sender = row.sender_name = None
                row.candidate_client_ids = []
            elif isinstance(row, OutboxMessage) and row.status in (
                    OutboxStatus.PENDING.value, OutboxStatus.SENDING.value):
                row.status = OutboxStatus.DEAD.value  # never sent to anyone now
        complaint.client_link_key = None  # the client's page link stops working
        complaint.anonymized_at = clock.now()
        replaced = _client(complaint, made.label)
        evidence, notice_files = _files(complaint, rows)
        db.session.flush()
        outcome = Outcome(complaint.id, texts, evidence, notice_files, replaced)
        audit.record(ACTION, obj=complaint, actor_label=ACTOR_LABEL, details={
            "retention_years": int(current_app.config["COMPLAINT_RETENTION_YEARS"]),
            "texts": texts, "evidence_removed": evidence, "notice_files_removed": notice_files,
            "client_id": complaint.complainant_id, "client_replaced": replaced})
    return outcome


def anonymize_one(complaint_id: int, before: datetime) -> Outcome | None:
    """Plan in a read, then write: what `run` does for each complaint."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        return None
    made = plan(complaint)
    db.session.commit()  # end the read before the write begins
    return anonymize(made, before)


@dataclass
class Summary:
    done: list[Outcome] = field(default_factory=list)
    skipped: int = 0


def run(before: datetime | None = None, *, batch_size: int = BATCH,
        progress: Callable[[Outcome | None], None] | None = None) -> Summary:
    """Anonymise every due complaint, batch by batch, one write transaction each.

    Call it outside any transaction (a command): it commits as it goes."""
    before = before or cutoff()
    warm_up()  # the engine's dictionary, before any write begins
    summary = Summary()
    for batch in batches(before, batch_size):
        for item in batch:
            outcome = anonymize_one(item.id, before)
            if outcome is None:
                summary.skipped += 1
            else:
                summary.done.append(outcome)
            if progress:
                progress(outcome)
        db.session.expunge_all()  # keep the identity map to one batch
    return summary


__all__ = ["ACTION", "BATCH", "Due", "Outcome", "Plan", "Summary", "anonymize",
           "anonymize_one", "batches", "count_due", "cutoff", "due", "plan", "run"]
