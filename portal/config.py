"""Configuration: defaults here, overridden by instance/config.py, then the environment."""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

# The key earlier versions shipped with: published, so it is treated as no key at all.
DEFAULT_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105
UNSET_SECRET_KEYS = (None, "", DEFAULT_SECRET_KEY)


class Defaults:
    # Set it in production (environment or instance/config.py); otherwise a random key is
    # generated into <instance>/secret_key on first start (see create_app).
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # filled from instance path
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500 * 1024
    EVIDENCE_MAX_BYTES = 20 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "redress_session"
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # The cookie is written when the session changes (security.check_session_lifetime moves
    # `seen_at` every 30 s of activity), not re-signed and re-sent on every request.
    SESSION_REFRESH_EACH_REQUEST = False

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    LOGIN_THROTTLE_PER_ACCOUNT = 5
    LOGIN_THROTTLE_PER_IP = 20

    PUBLIC_FORM_PER_IP_PER_HOUR = 5
    # Stated in the public form's privacy notice: how long a complaint record is kept after
    # it is finished; `flask retention run` then anonymises it (portal/services/retention.py).
    COMPLAINT_RETENTION_YEARS = 10
    # Reverse proxies in front of the app (0 = none): trust that many X-Forwarded-For/Proto hops.
    TRUSTED_PROXY_COUNT = 0
    # Creating an account, enabling one, granting a role or resetting someone's password takes
    # effect only once a second partner approves it. A firm with a single partner may turn this
    # off; the admin pages and start-up then warn about it.
    ACCOUNT_CHANGES_NEED_SECOND_PARTNER = True

    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = ("Redress 投诉处理", "complaints@firm.example")
    MAIL_SINK_DIR: str | None = None  # where `make run`'s SMTP sink writes messages
    MAIL_TIMEOUT = 30  # seconds for one SMTP connection attempt (the outbox retries later)
    # The complaints mailbox (`flask mail work`, portal/services/mailin/): read over IMAP with
    # TLS. No host = the email channel is off (and /healthz says so).
    MAIL_INBOX_HOST: str | None = None
    MAIL_INBOX_PORT = 993  # implicit TLS (IMAPS)
    MAIL_INBOX_USER: str | None = None
    MAIL_INBOX_PASSWORD: str | None = None  # or an app password
    MAIL_INBOX_FOLDER = "INBOX"
    MAIL_INBOX_PROCESSED_FOLDER = "Processed"  # a message moves here once stored
    MAIL_INBOX_CA_FILE: str | None = None  # None = the system's certificate authorities
    # The address clients write to (Reply-To: of every message sent); None = the firm's
    # FIRM_COMPLAINTS_EMAIL.
    MAIL_INBOX_ADDRESS: str | None = None
    MAIL_INBOX_MAX_BYTES = 25 * 1024 * 1024  # a larger message becomes a draft that says so
    MAIL_INBOX_POLL_SECONDS = 60  # between passes when the server has no IDLE
    MAIL_INBOX_TIMEOUT = 60  # seconds for one IMAP network operation
    # Only the Authentication-Results header added by this server is trusted (its authserv-id,
    # e.g. mx.firm.example); None = the topmost one.
    MAIL_INBOX_AUTHSERV_ID: str | None = None
    # The firm's own mail domains: never sent an automatic receipt. The domains of
    # FIRM_COMPLAINTS_EMAIL, MAIL_INBOX_ADDRESS and MAIL_DEFAULT_SENDER are always included.
    FIRM_MAIL_DOMAINS: tuple[str, ...] = ()
    # Rendered pages kept per viewer until the data changes (portal/web/page_cache.py);
    # 0 turns the cache off. The age only bounds how long an entry nobody asks for stays in
    # memory: the keys already say which data and which minute an entry is good for.
    PAGE_CACHE_SIZE = 256
    PAGE_CACHE_SECONDS = 600
    NOTICE_DIR: str | None = None  # stored notice PDFs; None = <instance>/notices
    # the demo clock's offset (`flask demo clock`); None = <instance>/clock_offset
    CLOCK_OFFSET_FILE: str | None = None
    # Keys the audit chain (HMAC-SHA-256); kept out of the database. Required in production;
    # in development a random key is generated into <instance>/audit.key on first start.
    AUDIT_HMAC_KEY: str | None = None
    # Signed checkpoints of the audit chain's head, one append-only file per database;
    # None = <instance>/audit-checkpoints
    AUDIT_CHECKPOINT_DIR: str | None = None
    EVIDENCE_DIR: str | None = None  # uploaded evidence; None = <instance>/evidence
    # Rendered previews of evidence (PNG, one per SHA-256); None = <INSTANCE_DATA_DIR or
    # instance>/previews. A cache: deleting it only costs rendering them again.
    PREVIEW_DIR: str | None = None

    FIRM_NAME_ZH = "示例律师事务所"
    FIRM_NAME_EN = "Example Law Firm"
    FIRM_ADDRESS_ZH = "上海市浦东新区世纪大道100号 20层"
    FIRM_ADDRESS_EN = "20F, 100 Century Avenue, Pudong, Shanghai"
    FIRM_PHONE = "+86 21 5000 0000"
    FIRM_COMPLAINTS_EMAIL = "complaints@firm.example"

    FIRST_RESPONSE_WORKING_DAYS = 3
    # `flask sla tick` (run by the outbox worker every SLA_TICK_SECONDS): a reminder this many
    # working days before each deadline, escalation to the partners once one has passed.
    SLA_REMINDER_WORKING_DAYS = 1
    SLA_TICK_SECONDS = 300
    # The address clients use to reach the signed links in emails, e.g. https://redress.firm.cn
    # (production should set it: otherwise links take the host of the request that sent them).
    PUBLIC_BASE_URL: str | None = None
    CONFIRMATION_LINK_MAX_AGE = timedelta(days=7)
    # How long a respondent's link to reply in writing works (the due date falls within it).
    REPLY_LINK_MAX_AGE = timedelta(days=21)
    # The client's page (status, notices, answering the outcome): one link per complaint,
    # sent with every notice; asking for a new one revokes the old.
    CLIENT_LINK_MAX_AGE = timedelta(days=90)
    # Requests for a new link to the client's page (a lost one), per visitor per hour.
    LOST_LINK_PER_IP_PER_HOUR = 5
    # Committee members who have not voted are reminded once, this long before the close.
    BALLOT_REMINDER_HOURS = 24
    # After this many working days without the client's answer to an outcome notice, a
    # partner may record "no answer" and the remedies proceed.
    OUTCOME_ANSWER_WORKING_DAYS = 15
    # A bulletin drafted by one partner is published by another (the drafter cannot).
    BULLETIN_SECOND_PARTNER = False
    # Follow-up: the satisfaction call-back falls due this many days after the remedies are
    # done; the survey link works this long, and its one reminder goes this many days after.
    FOLLOW_UP_CALLBACK_DAYS = 14
    SURVEY_LINK_MAX_AGE = timedelta(days=14)
    SURVEY_REMINDER_DAYS = 5
    OUTBOX_MAX_ATTEMPTS = 6
    OUTBOX_BACKOFF_SECONDS = 30
    OUTBOX_SENDING_TIMEOUT_SECONDS = 600  # a message 'sending' for longer is claimed again
    ENV_NAME = "development"


ENV_KEYS = (
    "SECRET_KEY",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_SINK_DIR",
    "MAIL_INBOX_HOST",
    "MAIL_INBOX_PORT",
    "MAIL_INBOX_USER",
    "MAIL_INBOX_PASSWORD",
    "MAIL_INBOX_FOLDER",
    "MAIL_INBOX_PROCESSED_FOLDER",
    "MAIL_INBOX_CA_FILE",
    "MAIL_INBOX_ADDRESS",
    "MAIL_INBOX_AUTHSERV_ID",
    "ENV_NAME",
    "FIRST_RESPONSE_WORKING_DAYS",
    "SLA_REMINDER_WORKING_DAYS",
    "SLA_TICK_SECONDS",
    "SESSION_COOKIE_SECURE",
    "TRUSTED_PROXY_COUNT",
    "PUBLIC_BASE_URL",
    "COMPLAINT_RETENTION_YEARS",
    "AUDIT_HMAC_KEY",
    "AUDIT_CHECKPOINT_DIR",
    "ACCOUNT_CHANGES_NEED_SECOND_PARTNER",
)


def _coerce(key: str, current: object, raw: str) -> object:
    if isinstance(current, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        try:
            return int(raw.strip())
        except ValueError:
            raise RuntimeError(f"{key} must be a whole number, not {raw!r}: set it to a number "
                               "or unset it to use the default.") from None
    return raw


def from_environment(config: dict) -> None:
    for key in ENV_KEYS:
        if key in os.environ:
            config[key] = _coerce(key, config.get(key), os.environ[key])
    if "DATABASE_URL" in os.environ:
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]


# Written by `make run` while its Dovecot runs (scripts/run_dev.py), so that this checkout's other
# commands (`flask mail deliver` in another terminal) find the mailbox; removed when it stops.
DEV_MAILBOX_FILE = "imap/make-run.json"


def from_dev_mailbox(config: dict, instance_path: str) -> None:
    """Outside production and tests, with no mailbox configured: `make run`'s, if running."""
    if is_production(config) or config.get("TESTING") or config.get("MAIL_INBOX_HOST"):
        return
    try:
        values = json.loads((Path(instance_path) / DEV_MAILBOX_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return
    for key, value in values.items():
        if key.startswith("MAIL_INBOX_"):
            config[key] = _coerce(key, config.get(key), str(value))


def default_database_uri(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'redress.sqlite3'}"


def is_production(config: dict) -> bool:
    return config.get("ENV_NAME") == "production"


def second_partner_approval(config) -> bool:
    return bool(config.get("ACCOUNT_CHANGES_NEED_SECOND_PARTNER", True))


def instance_secret(instance_path: str, filename: str) -> str:
    """A random secret kept in <instance>/<filename> (mode 0600), created on first use.

    The file is written under a temporary name and linked into place, so two processes
    starting together agree on one secret.
    """
    path = Path(instance_path) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{filename}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its secret
        finally:
            temporary.unlink(missing_ok=True)
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it to generate a new secret.")
    return secret
