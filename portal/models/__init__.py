"""Models, one module per aggregate; imported here so Alembic sees every table."""

from portal.models.audit import AuditEvent
from portal.models.calendar import CalendarOverride, ConfirmedYear
from portal.models.complaint import (
    Channel,
    Complaint,
    ConfirmationLink,
    ConfirmationMethod,
    Evidence,
    EvidenceCategory,
    ReferenceCounter,
    Remedy,
    State,
)
from portal.models.matter import Client, Matter
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.ratelimit import RateLimitHit
from portal.models.user import Department, LoginAttempt, Role, User, UserRole

__all__ = [
    "AuditEvent",
    "CalendarOverride",
    "Channel",
    "Client",
    "Complaint",
    "ConfirmationLink",
    "ConfirmationMethod",
    "ConfirmedYear",
    "Department",
    "Evidence",
    "EvidenceCategory",
    "LoginAttempt",
    "Matter",
    "Notice",
    "OutboxMessage",
    "OutboxStatus",
    "RateLimitHit",
    "ReferenceCounter",
    "Remedy",
    "Role",
    "State",
    "User",
    "UserRole",
]
