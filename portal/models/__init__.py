"""Models, one module per aggregate; imported here so Alembic sees every table."""

from portal.models import (  # noqa: F401 - each creates database objects with its table
    audit_head_function,
    search_index,
)
from portal.models.access_request import AccessRequest, AccessRequestKind, AccessRequestStatus
from portal.models.analytics import ComplaintFact
from portal.models.audit import AuditEvent
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.calendar import CalendarOverride, ConfirmedYear
from portal.models.complaint import (
    Channel,
    Complaint,
    ComplaintExclusion,
    ConfirmationLink,
    ConfirmationMethod,
    Evidence,
    EvidenceCategory,
    ReferenceCounter,
    Remedy,
    State,
)
from portal.models.data_version import DataVersion
from portal.models.deadline import ClockPause, Deadline, DeadlineKind, RegulatoryPeriod
from portal.models.followup import (
    ActionKind,
    ActionStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    ComplaintRootCause,
    ImprovementAction,
    RootCause,
    WorkingDay,
)
from portal.models.investigation import (
    Allegation,
    Assignment,
    ConflictDeclaration,
    FirstResponse,
    InterviewNote,
    ReplyRequest,
    RoutingRule,
    RuleArticle,
    Statement,
)
from portal.models.mailin import InboundMail, MailOutcome
from portal.models.matter import Client, Matter
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.prevention import (
    ChecklistTemplateItem,
    ExpectationEntry,
    MatterChecklistItem,
    MatterType,
    ProgressReport,
)
from portal.models.ratelimit import RateLimitHit
from portal.models.resolution import (
    Ballot,
    BallotMember,
    BallotProposal,
    ClientAnswer,
    DecidedRemedy,
    Decision,
    NegotiationRound,
    ProposedRemedy,
    RecourseText,
    RemedyTask,
    Vote,
)
from portal.models.user import Department, LoginAttempt, Role, User, UserAlias, UserRole

__all__ = [
    "ChecklistTemplateItem",
    "ExpectationEntry",
    "MatterChecklistItem",
    "MatterType",
    "ProgressReport",
    "ActionKind",
    "ActionStatus",
    "CallAttempt",
    "ComplaintFact",
    "Callback",
    "CallbackStatus",
    "ComplaintRootCause",
    "ImprovementAction",
    "RootCause",
    "WorkingDay",
    "Bulletin",
    "BulletinStatus",
    "Ballot",
    "BallotMember",
    "BallotProposal",
    "ClientAnswer",
    "DecidedRemedy",
    "Decision",
    "NegotiationRound",
    "ProposedRemedy",
    "RecourseText",
    "RemedyTask",
    "Vote",
    "Allegation",
    "Assignment",
    "ClockPause",
    "DataVersion",
    "ConflictDeclaration",
    "Deadline",
    "DeadlineKind",
    "FirstResponse",
    "InterviewNote",
    "RegulatoryPeriod",
    "ReplyRequest",
    "RoutingRule",
    "RuleArticle",
    "Statement",
    "AccessRequest",
    "AccessRequestKind",
    "AccessRequestStatus",
    "AuditEvent",
    "CalendarOverride",
    "Channel",
    "Client",
    "Complaint",
    "ComplaintExclusion",
    "ConfirmationLink",
    "ConfirmationMethod",
    "ConfirmedYear",
    "Department",
    "Evidence",
    "EvidenceCategory",
    "LoginAttempt",
    "InboundMail",
    "MailOutcome",
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
    "UserAlias",
    "UserRole",
]
