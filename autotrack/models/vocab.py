"""The fixed vocabulary of DESIGN.md: lifecycle categories, permissions, built-in roles.

Statuses and roles are records an organization edits; these are the fixed things they map to.
"""

from enum import StrEnum


class Lifecycle(StrEnum):
    """The fixed lifecycle category every configurable status maps to."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Lifecycle categories in which a ticket still needs work (its SLA clocks may run or be paused).
ACTIVE_STATES = (Lifecycle.NEW, Lifecycle.OPEN, Lifecycle.PENDING)


class SlaCalendar(StrEnum):
    BUSINESS_HOURS = "business_hours"
    ALWAYS = "24x7"


class EscalationTarget(StrEnum):
    LEAD = "lead"
    MANAGER = "manager"
    ORG_ADMIN = "org_admin"


class LowRatingAction(StrEnum):
    NOTIFY_MANAGER = "notify_manager"
    REOPEN = "reopen"
    NOTHING = "nothing"


class Reminder(StrEnum):
    """How often an escalation level reminds its people of their overdue tickets (one digest each)."""

    DAILY = "daily"  # every working day, once business opens (09:00 where the calendar is 24x7)
    HOURLY = "hourly"  # every hour of business hours


class MemberRole(StrEnum):
    """How a user belongs to a department."""

    MANAGER = "manager"
    AGENT = "agent"


class Portal(StrEnum):
    """Where a role works; a custom role is built on one of these."""

    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    EMPLOYEE = "portal"


class Perm(StrEnum):
    TICKET_CREATE = "ticket.create"
    TICKET_VIEW_DEPARTMENT = "ticket.view_department"
    TICKET_VIEW_ALL = "ticket.view_all"
    TICKET_ASSIGN = "ticket.assign"
    TICKET_TRANSITION = "ticket.transition"
    TICKET_COMMENT_INTERNAL = "ticket.comment_internal"
    TICKET_CHANGE_PRIORITY = "ticket.change_priority"
    REPORT_VIEW = "report.view"
    SETTINGS_MANAGE = "settings.manage"
    USER_MANAGE = "user.manage"


ALL_PERMISSIONS = frozenset(Perm)

_STAFF = {
    Perm.TICKET_CREATE,
    Perm.TICKET_VIEW_DEPARTMENT,
    Perm.TICKET_ASSIGN,
    Perm.TICKET_TRANSITION,
    Perm.TICKET_COMMENT_INTERNAL,
    Perm.TICKET_CHANGE_PRIORITY,
}

# key -> (display name, portal, permissions) of the four roles every organization starts with.
BUILTIN_ROLES = {
    "org_admin": ("Organization admin", Portal.ADMIN, ALL_PERMISSIONS),
    "manager": ("Manager", Portal.MANAGER, frozenset(_STAFF | {Perm.REPORT_VIEW})),
    "agent": ("Agent", Portal.AGENT, frozenset(_STAFF)),
    "employee": ("Employee", Portal.EMPLOYEE, frozenset({Perm.TICKET_CREATE})),
}
