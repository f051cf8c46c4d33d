"""Append-only, hash-chained audit trail.

Rows written before the chain was keyed link with plain SHA-256; from the `audit.rekeyed`
event on, each link is an HMAC-SHA-256 under AUDIT_HMAC_KEY, which the database never holds,
so rows can no longer be rewritten and re-chained by someone with only database access.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import User

GENESIS = "0" * 64


class HashScheme(StrEnum):
    SHA256 = "sha256"  # before the rekey: anyone can recompute these
    HMAC_SHA256 = "hmac-sha256"  # keyed with AUDIT_HMAC_KEY


class AuditEvent(db.Model):
    # A case file's timeline reads its complaint's events: without this index, a scan of the
    # whole trail (a million rows after ten years).
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_label: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50), index=True)
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # not indexed: migration c4e1a9b7d352
    scheme: Mapped[str] = mapped_column(
        String(16), default=HashScheme.SHA256.value, server_default=HashScheme.SHA256.value
    )

    actor: Mapped[User | None] = relationship()

    def canonical(self) -> str:
        return canonical({name: getattr(self, name) for name in CANONICAL_FIELDS})

    def compute_hash(self, key: bytes | None = None) -> str:
        """This row's link: SHA-256 or, for keyed rows, HMAC-SHA-256 under `key`."""
        return link_hash(self.prev_hash, self.canonical(), self.scheme, key)


CANONICAL_FIELDS = ("id", "at", "actor_id", "actor_label", "action", "object_type",
                    "object_id", "ip", "details")


def canonical(fields: Mapping[str, Any]) -> str:
    """What a row's hash covers (CANONICAL_FIELDS), as one JSON text; `at` is aware (UTC)."""
    return json.dumps(
        {**{name: fields[name] for name in CANONICAL_FIELDS},
         "at": fields["at"].isoformat(timespec="microseconds")},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def link_hash(prev_hash: str, canonical_text: str, scheme: str, key: bytes | None) -> str:
    """The link of a row after `prev_hash`: SHA-256, or HMAC-SHA-256 under `key` when keyed."""
    payload = (prev_hash + canonical_text).encode()
    if scheme == HashScheme.HMAC_SHA256:
        if key is None:
            raise ValueError("a keyed audit row needs AUDIT_HMAC_KEY to be checked")
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()
