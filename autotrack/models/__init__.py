"""All models, importable from one place (Alembic and the services read them from here)."""

from autotrack.models import settings_events  # noqa: F401  (renews settings tokens)
from autotrack.models.audit import AuditEvent, AuditTrailIsAppendOnly, SecurityEvent
from autotrack.models.canned import CannedReply, SavedView
from autotrack.models.feedback import Feedback
from autotrack.models.mail import AfterImport, InboundMessage, InboundStatus, Mailbox, MailSecurity
from autotrack.models.notify import Notification, NotificationPreference, OutboxEmail, OutboxStatus
from autotrack.models.org import (
    BusinessCalendar,
    Category,
    Department,
    DepartmentMember,
    DirectoryEntry,
    DirectorySync,
    EscalationRule,
    Holiday,
    Organization,
    Priority,
    Status,
    WorkingHours,
)
from autotrack.models.sla import SlaDigestRun, SlaEvent, SlaRecompute, SlaStep
from autotrack.models.throttle import Heartbeat, Throttle
from autotrack.models.ticket import Attachment, Comment, Task, Ticket, TicketLink, TicketWatcher, in_declared_schema
from autotrack.models.types import UTCDateTime, utcnow
from autotrack.models.user import PasswordToken, RecoveryCode, Role, RolePermission, User, UserSession
from autotrack.models.vocab import (
    ACTIVE_STATES,
    ALL_PERMISSIONS,
    BUILTIN_ROLES,
    EscalationTarget,
    Lifecycle,
    LowRatingAction,
    MemberRole,
    Perm,
    Portal,
    Reminder,
    SlaCalendar,
)

__all__ = [
    "ACTIVE_STATES",
    "ALL_PERMISSIONS",
    "AfterImport",
    "Attachment",
    "AuditEvent",
    "AuditTrailIsAppendOnly",
    "BUILTIN_ROLES",
    "BusinessCalendar",
    "CannedReply",
    "Category",
    "Comment",
    "Department",
    "DepartmentMember",
    "DirectoryEntry",
    "DirectorySync",
    "EscalationRule",
    "EscalationTarget",
    "Feedback",
    "Heartbeat",
    "Holiday",
    "InboundMessage",
    "InboundStatus",
    "Lifecycle",
    "LowRatingAction",
    "MailSecurity",
    "Mailbox",
    "MemberRole",
    "Notification",
    "NotificationPreference",
    "Organization",
    "OutboxEmail",
    "PasswordToken",
    "OutboxStatus",
    "Perm",
    "Portal",
    "Priority",
    "RecoveryCode",
    "Reminder",
    "Role",
    "SavedView",
    "SecurityEvent",
    "RolePermission",
    "SlaCalendar",
    "SlaDigestRun",
    "SlaEvent",
    "SlaRecompute",
    "SlaStep",
    "Status",
    "Task",
    "Throttle",
    "Ticket",
    "TicketLink",
    "TicketWatcher",
    "UTCDateTime",
    "User",
    "UserSession",
    "WorkingHours",
    "in_declared_schema",
    "utcnow",
]
