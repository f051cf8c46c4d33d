"""Evidence files: checked by content, stored outside static/ under generated names.

A file is accepted only when its bytes are one of: PDF; JPEG, PNG, GIF or WebP image;
Word/Excel/PowerPoint (OOXML zip with the matching [Content_Types].xml, no macros) or a
legacy Word/Excel OLE compound file; an email (.eml, RFC 822 headers); plain text (UTF-8 or
GB18030, no markup). The name the client gave is kept for display only; the file is stored
as a random hex name with its SHA-256 and served through an authorised view as an
attachment whose extension matches the content.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from flask_babel import gettext as _

from portal.db import db, discard_on_rollback, remove_after_commit
from portal.models.complaint import EVIDENCE_INTAKE, Complaint, Evidence, EvidenceCategory
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import IntakeError

CHUNK = 64 * 1024


class EvidenceError(IntakeError):
    """A file refused; `code` names why (type, markup, macros, empty, too_large) for whoever
    lists refusals later in another language (the email channel's drafts)."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None, code: str = "type") -> None:
        super().__init__(message, field=field)
        self.code = code


class EvidenceTooLarge(EvidenceError):
    status = 413


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]  # the first one is used when the name does not fit
    label: str


PDF = Kind("application/pdf", (".pdf",), "PDF")
JPEG = Kind("image/jpeg", (".jpg", ".jpeg"), "JPEG")
PNG = Kind("image/png", (".png",), "PNG")
GIF = Kind("image/gif", (".gif",), "GIF")
WEBP = Kind("image/webp", (".webp",), "WebP")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",), "Word")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",), "Excel")
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation",
            (".pptx",), "PowerPoint")
DOC = Kind("application/msword", (".doc",), "Word 97-2003")
XLS = Kind("application/vnd.ms-excel", (".xls",), "Excel 97-2003")
EML = Kind("message/rfc822", (".eml",), "Email")
TEXT = Kind("text/plain; charset=utf-8", (".txt", ".csv", ".log", ".md"), "Text")
# Stored as received: a GB18030 file is served with its own charset, not as UTF-8.
TEXT_GB18030 = Kind("text/plain; charset=gb18030", TEXT.extensions, "Text")

_IMAGES = {"image/jpeg": JPEG, "image/png": PNG, "image/gif": GIF, "image/webp": WEBP}
_IMAGE_MAGIC = {
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/gif": lambda h: h[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
}
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MARKUP = re.compile(
    r"<\s*(?:!doctype|html|head|body|script|iframe|frame|svg|object|embed|meta|link|style|"
    r"form|img|a|base|math|\?xml|xsl)[\s>/]",
    re.IGNORECASE,
)
_HEADER = re.compile(r"^([!-9;-~]+):")
_EML_REQUIRED_ANY = {"date", "subject", "to", "message-id", "received", "mime-version"}


def _refused() -> EvidenceError:
    return EvidenceError(_(
        "This type of file is not accepted. Send a PDF, an image (JPEG, PNG, GIF, WebP), a "
        "Word, Excel or PowerPoint document, an email (.eml) or plain text."
    ), field="file")


def _markup_refused() -> EvidenceError:
    return EvidenceError(_(
        "Web pages and SVG drawings (HTML, SVG, XML) are not accepted, whatever their name. "
        "Save the page as PDF or take a screenshot instead."
    ), field="file", code="markup")


# --- recognising the content ---------------------------------------------------------------


def _ooxml(path: Path) -> Kind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                raise _refused()
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise EvidenceError(_("Office documents with macros are not accepted. Save it "
                                      "without macros (.docx, .xlsx, .pptx) or as PDF."),
                                    field="file", code="macros")
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > 512 * 1024:
                raise _refused()
            types = archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        raise _refused() from None
    found = set(re.findall(rb'ContentType\s*=\s*"([^"]+)"', types))
    kinds = [kind for name, kind in _OOXML_MAIN.items() if name.encode() in found]
    if len(kinds) != 1:
        raise _refused()
    return kinds[0]


def _ole(head: bytes, path: Path) -> Kind:
    # The directory of a compound file names its streams in UTF-16LE.
    data = path.read_bytes()
    if "WordDocument".encode("utf-16-le") in data:
        return DOC
    if "Workbook".encode("utf-16-le") in data or "Book\x00".encode("utf-16-le") in data:
        return XLS
    raise _refused()


def _decode_text(data: bytes) -> tuple[str, Kind] | None:
    """The text and its kind (UTF-8 or GB18030), or None when it is not plain text."""
    if b"\x00" in data:
        return None
    for encoding, kind in (("utf-8-sig", TEXT), ("gb18030", TEXT_GB18030)):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc"
                       and ch not in "\t\n\r\f\v\x1b")
        return (text, kind) if controls == 0 else None
    return None


def _looks_like_email(text: str) -> bool:
    block = text.lstrip("\ufeff")[:64 * 1024].replace("\r\n", "\n").split("\n\n", 1)[0]
    lines = block.split("\n")
    if lines and lines[0].startswith("From "):  # an mbox separator line
        lines = lines[1:]
    names: set[str] = set()
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not names:
                return False
            continue
        match = _HEADER.match(line)
        if not match:
            return False
        names.add(match.group(1).lower())
    return "from" in names and bool(names & _EML_REQUIRED_ANY)


def detect(path: Path) -> Kind:
    """The kind of a stored upload, from its bytes alone; EvidenceError when refused."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head:
        raise EvidenceError(_("The file is empty."), field="file", code="empty")
    if head.startswith(b"%PDF-"):
        return PDF
    guessed = filetype.guess(head)
    if guessed is not None and guessed.mime in _IMAGES:
        if _IMAGE_MAGIC[guessed.mime](head):
            return _IMAGES[guessed.mime]
        raise _refused()
    if head.startswith(b"PK\x03\x04"):
        return _ooxml(path)
    if head.startswith(_OLE_MAGIC):
        return _ole(head, path)
    if guessed is not None:
        raise _refused()  # a known binary format that is not on the list
    decoded = _decode_text(path.read_bytes())
    if decoded is None:
        raise _refused()
    text, kind = decoded
    if _looks_like_email(text):
        return EML
    if _MARKUP.search(text):
        raise _markup_refused()
    return kind


# --- names ---------------------------------------------------------------------------------


def safe_filename(name: str | None, fallback: str = "evidence") -> str:
    """A display and download name without paths, control or direction characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*;,\']', "_", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 110] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:120]
    return name or fallback


def download_name(evidence: Evidence) -> str:
    """The original name, with an extension that matches what the file really is."""
    name = safe_filename(evidence.original_name)
    kind = next((k for k in KINDS if k.content_type == evidence.content_type), None)
    if kind is None:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and f".{ext.lower()}" in kind.extensions:
        return name
    return f"{name}{kind.extensions[0]}"


def ascii_download_name(evidence: Evidence) -> str:
    """The plain-ASCII `filename=` beside RFC 6266's `filename*` (for clients that do not read
    the UTF-8 one): accents dropped (Résumé → Resume), and `evidence-<id>` in front when
    letters without an ASCII form were left out (合同.pdf → evidence-7.pdf; the old
    fallback left just `.pdf`)."""
    name = download_name(evidence)
    if name.isascii():
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not ext.isascii():
        stem, ext = name, ""
    ascii_forms = [_ascii(ch) for ch in stem if not ch.isspace()]
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "-", _ascii(stem)).strip("-._")
    if not all(ascii_forms) or not ascii_stem:
        ascii_stem = "-".join(filter(None, (f"evidence-{evidence.id}", ascii_stem)))
    return f"{ascii_stem}.{ext}" if ext else ascii_stem


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


KINDS = (PDF, JPEG, PNG, GIF, WEBP, DOCX, XLSX, PPTX, DOC, XLS, EML, TEXT, TEXT_GB18030)


# --- storing -------------------------------------------------------------------------------


def storage_dir() -> Path:
    configured = current_app.config.get("EVIDENCE_DIR")
    directory = Path(configured) if configured else Path(current_app.instance_path) / "evidence"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def path_of(evidence: Evidence) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", evidence.stored_name):
        raise EvidenceError(_("This file is not available."))
    return storage_dir() / evidence.stored_name


def max_bytes() -> int:
    return int(current_app.config["EVIDENCE_MAX_BYTES"])


def too_large() -> EvidenceTooLarge:
    """The error for a file over EVIDENCE_MAX_BYTES, to show beside the file field."""
    megabytes = max_bytes() / (1024 * 1024)
    return EvidenceTooLarge(_("The file is larger than %(size)s MB. Send a smaller file, or "
                              "split it into several.", size=f"{megabytes:g}"), field="file",
                            code="too_large")


def _receive(stream: BinaryIO, target: Path) -> tuple[int, str]:
    """Copy at most the limit to `target`, hashing as it goes."""
    limit = max_bytes()
    digest = hashlib.sha256()
    size = 0
    with open(target, "xb") as out:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise too_large()
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


@dataclass(frozen=True)
class ReceivedFile:
    """An upload checked and stored on disk, not yet recorded on any complaint."""

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def receive(stream: BinaryIO, filename: str | None, *, kind: Kind | None = None) -> ReceivedFile:
    """Copy, hash and type-check an upload. Touches no database, so it runs before the write
    transaction starts; `add_received` records it (or removes it when its transaction rolls
    back). `kind` is for a file the portal itself knows the type of (an email as it arrived
    in the complaints mailbox); anything sent by someone is recognised from its bytes."""
    stored_name = uuid.uuid4().hex
    directory = storage_dir()
    partial = directory / f"{stored_name}.part"
    try:
        size, sha256 = _receive(stream, partial)
        kind = kind or detect(partial)
        os.replace(partial, directory / stored_name)
    finally:
        partial.unlink(missing_ok=True)
    return ReceivedFile(stored_name, safe_filename(filename), kind.content_type, size, sha256)


def add_received(actor: User | None, complaint: Complaint, received: ReceivedFile, *,
                 category: str, description: str | None = None) -> Evidence:
    """Record a received file on the draft (flush, audit)."""
    discard_on_rollback(storage_dir() / received.stored_name)
    if not complaint.is_draft:
        raise EvidenceError(_("This complaint is registered: add further evidence during the "
                              "investigation."))
    return record_received(actor, complaint, received, category=category,
                           description=description)


def record_received(actor: User | None, complaint: Complaint, received: ReceivedFile, *,
                    category: str, description: str | None = None,
                    phase: str = EVIDENCE_INTAKE, statement_id: int | None = None) -> Evidence:
    """Record a received file on `complaint` whatever its state (the caller decides whether
    it may): the draft's evidence, or an item of the investigation's register."""
    discard_on_rollback(storage_dir() / received.stored_name)
    if category not in {c.value for c in EvidenceCategory}:
        raise EvidenceError(_("Choose what kind of evidence this is."), field="category")
    description = (description or "").strip() or None
    if description and len(description) > 300:
        raise EvidenceError(_("A description has at most %(max)d characters.", max=300),
                            field="description")
    evidence = Evidence(
        complaint_id=complaint.id, category=category, description=description,
        original_name=received.original_name, stored_name=received.stored_name,
        content_type=received.content_type, size=received.size, sha256=received.sha256,
        uploaded_by_id=actor.id if actor else None, phase=phase, statement_id=statement_id,
    )
    db.session.add(evidence)
    db.session.flush()
    # Recorded on the complaint so that it shows on its timeline; the name is not logged.
    details = {"evidence_id": evidence.id, "category": category, "sha256": received.sha256,
               "size": received.size, "content_type": received.content_type}
    if phase != EVIDENCE_INTAKE:
        details["phase"] = phase
    if statement_id is not None:
        details["statement_id"] = statement_id
    audit.record("evidence.added", actor=actor, obj=complaint, details=details)
    return evidence


def add_evidence(actor: User | None, complaint: Complaint, *, stream: BinaryIO,
                 filename: str | None, category: str,
                 description: str | None = None) -> Evidence:
    """`receive` and `add_received` in one step, inside the caller's write transaction."""
    received = receive(stream, filename)
    return add_received(actor, complaint, received, category=category, description=description)


def record_download(actor: User | None, evidence: Evidence) -> None:
    audit.record("evidence.downloaded", actor=actor, obj=evidence.complaint, details={
        "evidence_id": evidence.id, "sha256": evidence.sha256,
    })


def _changeable(complaint: Complaint, evidence_id: int) -> Evidence:
    """The draft's evidence item, reloaded inside the write; registered evidence is final."""
    if not complaint.is_draft:
        raise EvidenceError(_("This complaint is registered: its evidence can no longer be "
                              "changed or removed."))
    evidence = find(complaint, evidence_id)
    if evidence is None:
        raise EvidenceError(_("This file is no longer on the draft. Reload the page."))
    return evidence


def recategorise(actor: User | None, complaint: Complaint, evidence_id: int,
                 category: str | None) -> Evidence:
    """Change the kind of a draft's evidence item (audited with both kinds)."""
    evidence = _changeable(complaint, evidence_id)
    if category not in {c.value for c in EvidenceCategory}:
        raise EvidenceError(_("Choose what kind of evidence this is."), field="category")
    previous = evidence.category
    if category != previous:
        evidence.category = category
        db.session.flush()
        audit.record("evidence.recategorised", actor=actor, obj=complaint, details={
            "evidence_id": evidence.id, "from_category": previous, "category": category})
    return evidence


def remove(actor: User | None, complaint: Complaint, evidence_id: int) -> None:
    """Remove a draft's evidence item: the row now, the file once the removal commits. The
    audit keeps what identifies the content (size, SHA-256), never the file's name."""
    evidence = _changeable(complaint, evidence_id)
    details = {"evidence_id": evidence.id, "category": evidence.category,
               "size": evidence.size, "sha256": evidence.sha256,
               "content_type": evidence.content_type}
    path = path_of(evidence)
    complaint.evidence.remove(evidence)
    db.session.flush()
    audit.record("evidence.removed", actor=actor, obj=complaint, details=details)
    remove_after_commit(path)


def find(complaint: Complaint, evidence_id: int) -> Evidence | None:
    evidence = db.session.get(Evidence, evidence_id)
    return evidence if evidence is not None and evidence.complaint_id == complaint.id else None
