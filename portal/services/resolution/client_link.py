"""The client's page link: one signed, expiring link per complaint, sent with each notice.

The token signs the complaint's id and its `client_link_key` (itsdangerous on the portal's
clock). Asking for a new link (a lost one) draws a new key, which revokes every earlier link.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.clock import ClockSigner
from portal.db import db
from portal.links import external_url
from portal.models.complaint import Complaint

CLIENT_LINK_SALT = "redress.resolution.client-page.v1"


class ClientLinkStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"  # a newer link was issued
    INVALID = "invalid"  # forged, mangled or naming no complaint


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CLIENT_LINK_SALT,
                                  signer=ClockSigner)


def max_age() -> timedelta:
    return current_app.config["CLIENT_LINK_MAX_AGE"]


def ensure_key(complaint: Complaint) -> str:
    """The complaint's link key, drawn on first use (inside a write transaction)."""
    if not complaint.client_link_key:
        complaint.client_link_key = secrets.token_hex(16)
    return complaint.client_link_key


def rotate_key(complaint: Complaint) -> str:
    complaint.client_link_key = secrets.token_hex(16)
    return complaint.client_link_key


def token_for(complaint: Complaint, key: str | None = None) -> str:
    """`key`: sign with a key drawn but not stored yet (a notice rendered before the write
    that stores the key with it); by default the complaint's own key."""
    return _serializer().dumps([complaint.id, key or ensure_key(complaint)])


def page_url(complaint: Complaint, key: str | None = None) -> str:
    """The absolute address of the client's page (PUBLIC_BASE_URL when set)."""
    return external_url("client_page.page", token=token_for(complaint, key))


def check(token: str) -> tuple[ClientLinkStatus, Complaint | None]:
    """What a token is worth, and its complaint when it is valid."""
    try:
        payload = _serializer().loads(token, max_age=int(max_age().total_seconds()))
    except SignatureExpired:
        return ClientLinkStatus.EXPIRED, None
    except BadSignature:
        return ClientLinkStatus.INVALID, None
    if (not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[0], int)
            or not isinstance(payload[1], str)):
        return ClientLinkStatus.INVALID, None
    complaint = db.session.get(Complaint, payload[0])
    if complaint is None or complaint.reference is None:
        return ClientLinkStatus.INVALID, None
    if not secrets.compare_digest(complaint.client_link_key or "", payload[1]):
        return ClientLinkStatus.REVOKED, None
    return ClientLinkStatus.VALID, complaint
