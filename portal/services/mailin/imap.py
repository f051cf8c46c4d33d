"""Reading the complaints mailbox over IMAP with TLS (imap-tools on imaplib).

One pass takes every message in the folder, oldest first: it asks the size and the server's
INTERNALDATE, fetches the message (only its header when it is over MAIL_INBOX_MAX_BYTES),
stores it (services/mailin/storing.py commits its draft or correspondence), and only then
moves it to the processed folder. A worker killed or a connection dropped anywhere in between
leaves the message in the folder: the next pass finds it stored (by its UID or Message-ID)
and only moves it, so nothing is lost and nothing is stored twice. The server's MOVE may be a
copy and an expunge that a dropped connection separates (RFC 6851 allows it); so a message
found already stored is first looked for in the processed folder, and only deleted if there.

`watch` repeats passes for `flask mail work`: between them it waits in IDLE where the server
offers it (re-issued every few seconds, so that a stop request is noticed), else it polls.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.parser import BytesHeaderParser

from flask import current_app
from imap_tools import AND, H, MailBox

from portal import clock
from portal.db import db
from portal.services.mailin.parse import message_ids
from portal.services.mailin.storing import Fetched, store, stored_as

log = logging.getLogger("portal.mailin")

SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
IDLE_SLICE = 5.0  # seconds of IDLE between checks of the stop request
RECONNECT_MAX = 300.0


class MailboxError(RuntimeError):
    """The mailbox cannot be read as configured (the message says why)."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    user: str
    password: str
    folder: str
    processed: str
    ca_file: str | None
    max_bytes: int
    timeout: float
    poll_seconds: float

    @property
    def mailbox(self) -> str:
        return f"{self.user}@{self.host}"


def settings(config=None) -> Settings | None:
    """The configured mailbox, or None when the email channel is off (no host)."""
    config = config or current_app.config
    host = (config.get("MAIL_INBOX_HOST") or "").strip()
    if not host:
        return None
    return Settings(
        host=host, port=int(config["MAIL_INBOX_PORT"]),
        user=config.get("MAIL_INBOX_USER") or "", password=config.get("MAIL_INBOX_PASSWORD") or "",
        folder=config["MAIL_INBOX_FOLDER"], processed=config["MAIL_INBOX_PROCESSED_FOLDER"],
        ca_file=config.get("MAIL_INBOX_CA_FILE") or None,
        max_bytes=int(config["MAIL_INBOX_MAX_BYTES"]), timeout=float(config["MAIL_INBOX_TIMEOUT"]),
        poll_seconds=float(config["MAIL_INBOX_POLL_SECONDS"]))


def connect(config: Settings) -> MailBox:
    """Log in over TLS (the certificate and host name are checked) and select the folder."""
    context = ssl.create_default_context(cafile=config.ca_file)
    box = MailBox(config.host, config.port, timeout=config.timeout, ssl_context=context)
    box.login(config.user, config.password, initial_folder=config.folder)
    if config.processed not in {f.name for f in box.folder.list()}:
        box.folder.create(config.processed)
    return box


def _fetch_data(box: MailBox, uid: str, items: str) -> list:
    status, data = box.client.uid("FETCH", uid, items)
    if status != "OK":
        raise MailboxError(f"FETCH {uid} {items}: {status}")
    return data


def _literal(data: list) -> bytes:
    return next((part[1] for part in data if isinstance(part, tuple)), b"")


def _meta(box: MailBox, uid: str) -> tuple[int, datetime]:
    line = b" ".join(p if isinstance(p, bytes) else p[0]
                     for p in _fetch_data(box, uid, "(RFC822.SIZE INTERNALDATE)"))
    size, when = SIZE.search(line), INTERNALDATE.search(line)
    if size is None or when is None:
        raise MailboxError(f"no size or date for UID {uid}")
    received = datetime.strptime(when.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    return int(size.group(1)), received.astimezone(UTC)


def _message_id(header: bytes) -> str | None:
    ids = message_ids(BytesHeaderParser().parsebytes(header).get("Message-ID", ""))
    return ids[0] if ids else None


def take_one(box: MailBox, config: Settings, uidvalidity: int, uid: str) -> bool:
    """Store one message and move it on; True when it was stored now (not already)."""
    size, received = _meta(box, uid)
    header = _literal(_fetch_data(box, uid, "(BODY.PEEK[HEADER])"))
    place = Fetched(mailbox=config.mailbox, folder=config.folder, uidvalidity=uidvalidity,
                    uid=int(uid), received_at=received, size=size, raw=header,
                    truncated=size > config.max_bytes)
    message_id = _message_id(header)
    stored = None
    already = stored_as(place, message_id)
    if already is None:
        db.session.rollback()  # no transaction stays open while the message downloads
        if not place.truncated:
            place = replace(place, raw=_literal(_fetch_data(box, uid, "(BODY.PEEK[])")))
        stored = store(place)
    db.session.rollback()
    if (already == "here" and message_id
            and _processed_holds(box, config, message_id, (size, received))):
        box.delete(uid)  # an earlier pass's move copied it and was cut off before the expunge
    else:
        box.move(uid, config.processed)
    return stored is not None


def _processed_holds(box: MailBox, config: Settings, message_id: str,
                     meta: tuple[int, datetime]) -> bool:
    """Whether the processed folder has this message: its Message-ID, size and arrival time
    (a copy keeps the arrival time, RFC 3501 6.4.7; a resent twin has its own)."""
    box.folder.set(config.processed)
    try:
        return any(_meta(box, uid) == meta
                   for uid in box.uids(AND(header=H("Message-ID", message_id))))
    finally:
        box.folder.set(config.folder)


def run_pass(box: MailBox, config: Settings, stop: threading.Event | None = None) -> int:
    """Take every message in the folder; returns how many were stored."""
    uidvalidity = int(box.folder.status(config.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
    stored = 0
    for uid in box.uids("ALL"):
        if stop is not None and stop.is_set():
            break
        try:
            stored += take_one(box, config, uidvalidity, uid)
        except (imaplib.IMAP4.abort, OSError):
            raise  # the connection: the caller reconnects, the message stays in the folder
        except Exception:  # noqa: BLE001 - one bad message must not hold up the others
            db.session.rollback()
            log.exception("message UID %s left in %s: it could not be stored", uid, config.folder)
    return stored


def fetch_once(config: Settings) -> int:
    with connect(config) as box:
        return run_pass(box, config)


def _wait_for_mail(box: MailBox, config: Settings, stop: threading.Event) -> None:
    """Until the server announces something (IDLE) or the polling interval passes."""
    if "IDLE" not in box.client.capabilities:
        stop.wait(config.poll_seconds)
        return
    waited = 0.0
    while not stop.is_set() and waited < config.poll_seconds:
        if box.idle.wait(timeout=IDLE_SLICE):
            return
        waited += IDLE_SLICE


def watch(config: Settings, stop: threading.Event,
          report: Callable[[str], None] = log.info) -> None:
    """`flask mail work`: passes until `stop`, reconnecting with backoff after a failure."""
    backoff = 1.0
    while not stop.is_set():
        try:
            with connect(config) as box:
                report(f"connected to {config.host}:{config.port} as {config.user}")
                backoff = 1.0
                while not stop.is_set():
                    stored = run_pass(box, config, stop)
                    if stored:
                        report(f"{stored} message(s) stored at {clock.now().isoformat()}")
                    _wait_for_mail(box, config, stop)
        except Exception as error:  # noqa: BLE001 - a dropped connection: try again later
            db.session.rollback()
            log.warning("mailbox pass failed: %s: %s", type(error).__name__, error)
            report(f"mailbox unavailable ({type(error).__name__}); retrying in {backoff:g} s")
            stop.wait(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)
        finally:
            db.session.remove()
