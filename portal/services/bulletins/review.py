"""The partner's review of a draft: every replacement shown in place with the words it
replaced, and anything the engine still finds in the text flagged.

The draft keeps its replacements in the order they appear (label, kind, original). The k-th
record is the k-th occurrence of its label counted from the previous record's, so the text
can be edited freely: a record whose label was edited away is no longer shown, nothing else
moves. Flags are computed on every look: the engine runs again on the text with the record's
parties; what it finds outside the replacements, and that the partner has not kept as "not an
identity", is a flag. Publishing is refused while one is open.

Audit entries say that a replacement was undone or a text kept, with its kind; never the
words themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from portal import clock
from portal.models.bulletin import Bulletin
from portal.models.user import User
from portal.privacy import Party, redact
from portal.privacy.labels import ENTITY_LABELS, entity_label
from portal.services import audit
from portal.services.bulletins.common import (
    BODY_MAX,
    TITLE_MAX,
    BulletinError,
    check_version,
    require_draft,
)
from portal.services.triage.common import text_of

REASON_MAX = 1000
REMOVED = {"zh": "[已删除]", "en": "[removed]"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    index: int  # the replacement record's position


@dataclass(frozen=True)
class Flag:
    start: int
    end: int
    text: str
    kind: str
    label: str


@dataclass(frozen=True)
class Segment:
    text: str
    replacement: dict | None = None  # the record, for a replaced span
    index: int | None = None
    flag: Flag | None = None


def locate(body: str, records: Sequence[dict]) -> list[Span]:
    spans, cursor = [], 0
    for index, record in enumerate(records):
        at = body.find(record["label"], cursor)
        if at < 0:
            continue
        spans.append(Span(at, at + len(record["label"]), index))
        cursor = at + len(record["label"])
    return spans


def flags(bulletin: Bulletin, parties: Sequence[Party]) -> list[Flag]:
    body = bulletin.body
    taken = locate(body, bulletin.replacements or [])
    kept = {k["text"] for k in bulletin.kept or []}
    found = []
    for r in redact(body, parties, language=bulletin.language).replacements:
        text = body[r.start:r.end]
        if text in kept or any(r.start < s.end and s.start < r.end for s in taken):
            continue
        found.append(Flag(r.start, r.end, text, r.kind, r.label))
    return found


def segments(bulletin: Bulletin, open_flags: Sequence[Flag]) -> list[Segment]:
    """The text cut into plain runs, replacements and flags, for the review page."""
    body, records = bulletin.body, bulletin.replacements or []
    marks: list[tuple[int, int, Segment]] = [
        (s.start, s.end, Segment(body[s.start:s.end], records[s.index], s.index))
        for s in locate(body, records)]
    marks += [(f.start, f.end, Segment(f.text, flag=f)) for f in open_flags]
    marks.sort(key=lambda m: m[0])
    out, cursor = [], 0
    for start, end, segment in marks:
        if start < cursor:
            continue
        if start > cursor:
            out.append(Segment(body[cursor:start]))
        out.append(segment)
        cursor = end
    if cursor < len(body):
        out.append(Segment(body[cursor:]))
    return out


def _reason(value: str | None) -> str:
    reason = text_of(value)
    if not reason:
        raise BulletinError(_("Say why: the reason is kept with the draft while it is "
                              "reviewed."), field="reason")
    if len(reason) > REASON_MAX:
        raise BulletinError(_("At most %(max)d characters.", max=REASON_MAX), field="reason")
    return reason


def _changed(actor: User, bulletin: Bulletin, action: str, details: dict) -> None:
    bulletin.updated_at = clock.now()
    audit.record(action, actor=actor, obj=bulletin, details=details)


def undo(actor: User, bulletin: Bulletin, index: int | None, reason: str | None, *,
         expected_version: int | None) -> None:
    """Put the replaced words back (an ordinary word the engine took for a name)."""
    require_draft(actor, bulletin)
    check_version(bulletin, expected_version)
    records = list(bulletin.replacements or [])
    span = next((s for s in locate(bulletin.body, records) if s.index == index), None)
    if span is None:
        raise BulletinError(_("That replacement is no longer in the text: reload the page."))
    why = _reason(reason)
    record = records.pop(span.index)
    bulletin.body = bulletin.body[:span.start] + record["original"] + bulletin.body[span.end:]
    bulletin.replacements = records
    bulletin.kept = [*(bulletin.kept or []), {"text": record["original"], "reason": why}]
    _changed(actor, bulletin, "bulletin.replacement_undone", {"kind": record["kind"]})


def keep(actor: User, bulletin: Bulletin, text: str | None, reason: str | None, *,
         expected_version: int | None) -> None:
    """A flag that is not an identity: it stays, and is not flagged again."""
    require_draft(actor, bulletin)
    check_version(bulletin, expected_version)
    words = (text or "").strip()
    if not words or words not in bulletin.body:
        raise BulletinError(_("That text is no longer in the draft: reload the page."))
    bulletin.kept = [*(bulletin.kept or []), {"text": words, "reason": _reason(reason)}]
    _changed(actor, bulletin, "bulletin.text_kept", {})


def _fresh(label: str, body: str, language: str) -> str:
    """The engine letters each run afresh: a letter the draft already uses for someone else
    is moved on to the first free one."""
    if label not in body:
        return label
    for role, template in ENTITY_LABELS[language].items():
        prefix = template.split("{}")[0]
        if prefix and label.startswith(prefix):
            number = 0
            while entity_label(role, number, language) in body:
                number += 1
            return entity_label(role, number, language)
    return label


def _replace_all(bulletin: Bulletin, words: str, label: str, kind: str) -> int:
    """Replace every occurrence of `words` outside the existing replacements; the records
    stay in text order."""
    body, records = bulletin.body, list(bulletin.replacements or [])
    spans = locate(body, records)
    edits = [(s.start, s.end, body[s.start:s.end], records[s.index]) for s in spans]
    at = body.find(words)
    while at >= 0:
        if not any(at < e[1] and e[0] < at + len(words) for e in edits):
            edits.append((at, at + len(words), label,
                          {"label": label, "kind": kind, "original": words}))
        at = body.find(words, at + len(words))
    edits.sort(key=lambda e: e[0])
    out, cursor, kept_records = [], 0, []
    for start, end, new_text, record in edits:
        out.append(body[cursor:start] + new_text)
        kept_records.append(record)
        cursor = end
    out.append(body[cursor:])
    added = len(kept_records) - len(spans)
    bulletin.body = "".join(out)
    bulletin.replacements = kept_records
    return added


def replace_flag(actor: User, bulletin: Bulletin, parties: Sequence[Party], text: str | None,
                 *, expected_version: int | None) -> None:
    """Apply the engine's replacement to a flagged text, everywhere it occurs."""
    require_draft(actor, bulletin)
    check_version(bulletin, expected_version)
    flag = next((f for f in flags(bulletin, parties) if f.text == (text or "").strip()), None)
    if flag is None:
        raise BulletinError(_("That text is no longer flagged: reload the page."))
    label = _fresh(flag.label, bulletin.body, bulletin.language)
    _replace_all(bulletin, flag.text, label, flag.kind)
    _changed(actor, bulletin, "bulletin.flag_replaced", {"kind": flag.kind})


def remove(actor: User, bulletin: Bulletin, text: str | None, *,
           expected_version: int | None) -> None:
    """The partner marks further text for removal: every occurrence becomes [removed]."""
    require_draft(actor, bulletin)
    check_version(bulletin, expected_version)
    words = (text or "").strip()
    if not words:
        raise BulletinError(_("Enter the words to remove, exactly as in the text."),
                            field="remove")
    if words not in bulletin.body:
        raise BulletinError(_("Those words are not in the text: copy them exactly as they "
                              "appear."), field="remove")
    if not _replace_all(bulletin, words, REMOVED[bulletin.language], "marked"):
        raise BulletinError(_("Those words are already replaced."), field="remove")
    bulletin.kept = [k for k in bulletin.kept or [] if k["text"] != words]
    _changed(actor, bulletin, "bulletin.text_removed", {})


def edit(actor: User, bulletin: Bulletin, *, title: str | None, body: str | None,
         expected_version: int | None) -> None:
    """Free editing; the engine looks at the new text on the next render."""
    require_draft(actor, bulletin)
    check_version(bulletin, expected_version)
    errors = {}
    heading, text = text_of(title), text_of(body)
    if not heading:
        errors["title"] = [_("Give the bulletin a title.")]
    elif len(heading) > TITLE_MAX:
        errors["title"] = [_("At most %(max)d characters.", max=TITLE_MAX)]
    if not text:
        errors["body"] = [_("The bulletin needs its text.")]
    elif len(text) > BODY_MAX:
        errors["body"] = [_("At most %(max)d characters.", max=BODY_MAX)]
    if errors:
        raise BulletinError(_("The draft was not saved: see the fields marked below."),
                            errors=errors)
    bulletin.title, bulletin.body = heading, text
    _changed(actor, bulletin, "bulletin.edited", {"length": len(text)})
