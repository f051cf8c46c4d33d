"""How a message from the complaints mailbox reads on the record: its sender checks, what
was wrong with it, the clients its address may be (services/mailin)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.mailin import InboundMail, MailOutcome
from portal.models.matter import Client

REFUSAL_LABELS = {
    "type": _l("this type of file is not accepted"),
    "markup": _l("a web page or drawing (HTML, SVG, XML) whatever its name says"),
    "macros": _l("an Office document with macros"),
    "empty": _l("the file is empty"),
    "too_large": _l("the file is over the size limit"),
}

PROBLEM_LABELS = {
    "attachment_refused": _l("Attachment “%(name)s” refused: %(reason)s."),
    "attachment_renamed": _l("An attachment's name held path separators or hidden control "
                             "characters; it is kept as “%(name)s”."),
    "too_large": _l("The message (%(size)s) is over the size limit: only its header was kept. "
                    "Open it in the mailbox's processed folder."),
    "narrative_cut": _l("The text is longer than a narrative can be: the narrative holds its "
                        "first %(max)s characters; the whole text is below and in the original."),
    "reference_not_sender": _l("The subject names complaint %(reference)s, but the sender is "
                               "not its complainant: it was not attached there."),
    "malformed_mime": _l("The message's structure is damaged: some parts may be missing. Check "
                         "the original."),
    "header_crlf": _l("A header held line breaks (a sign of header injection): they were "
                      "removed."),
    "charset_guessed": _l("The text's character set was wrong or unknown; it was read as the "
                          "one that fits."),
    "undecodable_text": _l("Part of the text could not be decoded: check the original."),
    "html_converted": _l("The message was in HTML only: it is shown as text, with nothing "
                         "loaded from elsewhere."),
    "active_html_removed": _l("The HTML held scripts or active attributes: they were removed."),
    "nested_message": _l("It carries another email as an attachment, kept as an .eml file and "
                         "not opened."),
    "too_many_attachments": _l("It had more attachments than are kept: the rest are only in "
                               "the original."),
    "no_sender": _l("It has no usable sender address."),
}

AUTOMATIC_LABELS = {
    "auto_submitted": _l("an automatic reply"), "autoreply_header": _l("an automatic reply"),
    "precedence": _l("bulk mail"), "list": _l("mailing-list mail"),
    "null_return_path": _l("a delivery report"), "bounce": _l("a delivery report"),
}

CHECK_TONES = {"pass": "tag-ok", "fail": "tag-err", "softfail": "tag-err",
               "permerror": "tag-warn", "temperror": "tag-warn"}


def problem_text(problem: dict) -> str:
    code = problem.get("code", "")
    template = PROBLEM_LABELS.get(code)
    if template is None:
        return code
    values = {key: value for key, value in problem.items() if key != "code"}
    if code == "attachment_refused":
        values["reason"] = str(REFUSAL_LABELS.get(values.get("reason"), values.get("reason")))
    if code == "too_large":
        values["size"] = f"{int(values.get('size') or 0) / (1024 * 1024):.1f} MB"
    return str(template) % {"name": "", "reason": "", "size": "", "max": "", "reference": "",
                            **values}


def checks(mail: InboundMail) -> list[tuple[str, str, str]]:
    """(method, result, tag class) for SPF, DKIM and DMARC; "none" when not reported."""
    rows = []
    for method in ("spf", "dkim", "dmarc"):
        result = (mail.auth or {}).get(method) or _("not reported")
        rows.append((method.upper(), result, CHECK_TONES.get(result, "")))
    return rows


def automatic_label(mail: InboundMail) -> str | None:
    return str(AUTOMATIC_LABELS[mail.automatic]) if mail.automatic in AUTOMATIC_LABELS else None


def draft_mail(complaint: Complaint) -> InboundMail | None:
    """The message a draft was made from (one query; called for email drafts only)."""
    return db.session.scalar(
        select(InboundMail).where(InboundMail.complaint_id == complaint.id,
                                  InboundMail.outcome == MailOutcome.DRAFT)
        .order_by(InboundMail.id).limit(1))


def candidates(mail: InboundMail) -> list[Client]:
    if not mail.candidate_client_ids:
        return []
    return list(db.session.scalars(
        select(Client).where(Client.id.in_(mail.candidate_client_ids)).order_by(Client.id)))
