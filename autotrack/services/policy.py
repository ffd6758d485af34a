"""The one authorization policy: may this user do this action (on this ticket)?

Code asks `can()` or `require()`; it never compares role names or portals. Who is staff, who may
manage a department and who is an org admin are decided here, from permissions only (a role's
portal is only where its holders land after signing in): `is_staff`, `can_manage_departments`,
`is_org_admin`, `department_seat`, and the same rules as SQL for queries (`*_role_ids`).
"""

from sqlalchemy import or_, select

from autotrack.extensions import db
from autotrack.models import (
    Lifecycle,
    MemberRole,
    Perm,
    Role,
    RolePermission,
    Ticket,
    TicketWatcher,
)
from autotrack.services.errors import Forbidden


def _permissions(holder):
    """The permissions of a role, or of a user's role (none for a user without one)."""
    if isinstance(holder, Role):
        return holder.permissions
    return holder.role.permissions if holder is not None and holder.role is not None else frozenset()


def is_staff(holder):
    """Whether a user (or role) works tickets: support staff, who may be a department's agent or
    lead and an escalation target. A read-only role (an Auditor) is not staff, whatever its portal."""
    return Perm.TICKET_TRANSITION in _permissions(holder)


def can_manage_departments(holder):
    """Whether a user (or role) may be a department's manager: staff who also see the reports."""
    return is_staff(holder) and Perm.REPORT_VIEW in _permissions(holder)


def is_org_admin(holder):
    """Whether a user (or role) manages the organization (the console; the last escalation level)."""
    return Perm.SETTINGS_MANAGE in _permissions(holder)


def department_seat(holder):
    """How a user of this role joins a department they are put into: as manager if they may manage
    one and do not administer the organization, as agent (who may lead) if they are other staff
    (an org admin works tickets beside the agents), None if they are no staff (they belong to it
    as an employee)."""
    if not is_staff(holder):
        return None
    if can_manage_departments(holder) and not is_org_admin(holder):
        return MemberRole.MANAGER
    return MemberRole.AGENT


def may_hold_seat(holder, seat):
    """Whether a user (or role) may be a department member as `seat` (manager or agent)."""
    return can_manage_departments(holder) if seat == MemberRole.MANAGER else is_staff(holder)


def _role_ids_with(permission):
    return select(RolePermission.role_id).where(RolePermission.permission == permission)


def staff_role_ids():
    """SQL: the ids of the roles `is_staff` accepts (for `Model.role_id.in_(...)`)."""
    return _role_ids_with(Perm.TICKET_TRANSITION)


def manager_role_ids():
    """SQL: the ids of the roles `can_manage_departments` accepts."""
    return _role_ids_with(Perm.REPORT_VIEW).where(RolePermission.role_id.in_(staff_role_ids()))


def org_admin_role_ids():
    """SQL: the ids of the roles `is_org_admin` accepts."""
    return _role_ids_with(Perm.SETTINGS_MANAGE)


def serves_department(user, department_id):
    """Whether `user` works this department's tickets (or every department's)."""
    if user.has_permission(Perm.TICKET_VIEW_ALL):
        return True
    return user.has_permission(Perm.TICKET_VIEW_DEPARTMENT) and department_id in user.staff_department_ids


def works_on(user, ticket):
    """Whether `user` is staff for this ticket: by department, or because it is assigned to them."""
    if user.org_id != ticket.org_id:
        return False
    return ticket.assignee_id == user.id or serves_department(user, ticket.department_id)


def is_copied(user, ticket):
    """Whether the requester (or staff) copied `user` on `ticket`: they may read and answer it."""
    return (
        user.org_id == ticket.org_id
        and db.session.scalar(
            select(TicketWatcher.id).where(
                TicketWatcher.ticket_id == ticket.id,
                TicketWatcher.user_id == user.id,
                TicketWatcher.kind == TicketWatcher.CC,
            )
        )
        is not None
    )


def ticket_portal(user, ticket=None):
    """Which portal `user` opens a ticket in ("agent" or "portal"): the agent workspace for staff,
    except that staff merely copied on `ticket` (not working on it) read it, like any copied
    colleague, in the employee portal when they may enter it. Every ticket link (pages, the
    live stream, emails) follows this one rule."""
    if not can(user, "portal.agent"):
        return "portal"
    if ticket is not None and not works_on(user, ticket) and is_copied(user, ticket) and can(user, "portal.employee"):
        return "portal"
    return "agent"


def ticket_view_lanes(user, *, own=True):
    """Why `user` may see a ticket of their organization, as SQL conditions any one of which is
    enough, or None when they see every one: `can(user, "ticket.view", t)` for lists. The lanes:
    their own tickets (as requester; left out with own=False), those assigned to them, those they
    are copied on, and one per department they serve."""
    ways = _ways_to_see(user)
    if ways is None:
        return None
    copied, departments = ways
    lanes = [Ticket.requester_id == user.id] if own else []
    lanes.append(Ticket.assignee_id == user.id)
    if copied:
        lanes.append(Ticket.id.in_(copied))
    return lanes + [Ticket.department_id == department for department in departments]


def may_see_clause(user):
    """SQL: the tickets of their organization `user` may see (the same lanes, departments in one
    IN), or None for all of them; combine it with the organization scope."""
    ways = _ways_to_see(user)
    if ways is None:
        return None
    copied, departments = ways
    conditions = [Ticket.requester_id == user.id, Ticket.assignee_id == user.id]
    if copied:
        conditions.append(Ticket.id.in_(copied))
    if departments:
        conditions.append(Ticket.department_id.in_(departments))
    return or_(*conditions)


def _ways_to_see(user):
    """(ids of the tickets `user` is copied on, ids of the departments whose tickets they see),
    beside their own and those assigned to them; None when they see every ticket."""
    if user.has_permission(Perm.TICKET_VIEW_ALL):
        return None
    # The copied-on ids as literals: the queue's plan stays the same for everyone copied on nothing.
    copied = db.session.scalars(
        select(TicketWatcher.ticket_id).where(TicketWatcher.user_id == user.id, TicketWatcher.kind == TicketWatcher.CC)
    ).all()
    departments = sorted(user.staff_department_ids) if user.has_permission(Perm.TICKET_VIEW_DEPARTMENT) else []
    return copied, departments


def can(user, action, ticket=None):
    """True if `user` may do `action`; ticket actions also need the ticket."""
    if user is None or not user.is_active:
        return False
    if ticket is not None and ticket.org_id != user.org_id:
        return False
    is_requester = ticket is not None and ticket.requester_id == user.id

    match action:
        case "ticket.create":
            return user.has_permission(Perm.TICKET_CREATE)
        case "ticket.create_on_behalf":
            return user.has_permission(Perm.TICKET_CREATE) and user.has_permission(Perm.TICKET_TRANSITION)
        case "ticket.view":
            return is_requester or works_on(user, ticket) or is_copied(user, ticket)
        case "ticket.comment":
            staff = works_on(user, ticket) and user.has_permission(Perm.TICKET_TRANSITION)
            return (is_requester or staff or is_copied(user, ticket)) and ticket.state != Lifecycle.CLOSED
        case "ticket.follow":
            return works_on(user, ticket)
        case "ticket.add_cc":
            staff = works_on(user, ticket) and user.has_permission(Perm.TICKET_TRANSITION)
            return (is_requester or staff) and ticket.state != Lifecycle.CLOSED
        case "ticket.comment_internal":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_COMMENT_INTERNAL)
        case "ticket.see_internal" | "ticket.sla_timeline":
            return works_on(user, ticket)
        case "ticket.assign":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_ASSIGN)
        case "ticket.change_priority":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_CHANGE_PRIORITY)
        case "ticket.change_department":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_ASSIGN)
        case "ticket.transition.assign":
            return can(user, "ticket.assign", ticket)
        case "ticket.transition.wait" | "ticket.transition.resume" | "ticket.transition.resolve":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_TRANSITION)
        case "ticket.transition.close" | "ticket.transition.reopen":
            return is_requester or (works_on(user, ticket) and user.has_permission(Perm.TICKET_TRANSITION))
        case "ticket.merge" | "ticket.link":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_TRANSITION)
        case "ticket.manage_tasks":
            return works_on(user, ticket) and user.has_permission(Perm.TICKET_TRANSITION)
        case "report.view" | "settings.manage" | "user.manage":
            return user.has_permission(action)
        case "portal.employee":
            return user.has_permission(Perm.TICKET_CREATE)
        case "portal.agent":
            return user.has_permission(Perm.TICKET_VIEW_DEPARTMENT) or user.has_permission(Perm.TICKET_VIEW_ALL)
        case "portal.manager":
            return user.has_permission(Perm.REPORT_VIEW)
        case "portal.admin":
            return user.has_permission(Perm.SETTINGS_MANAGE)
    raise ValueError(f"unknown action {action!r}")


def require(user, action, ticket=None, message="You are not allowed to do that."):
    """Raise Forbidden unless `can(user, action, ticket)`."""
    if not can(user, action, ticket):
        raise Forbidden(message)
