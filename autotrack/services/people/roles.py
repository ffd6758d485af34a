"""Roles kept in the database: an org admin edits the permission sets of roles and adds custom
ones (an Auditor, read-only across the organization). The built-in org admin role always keeps
every permission, and an organization always keeps an active user who may manage it."""

from sqlalchemy import func, select

from autotrack.extensions import db
from autotrack.models import ALL_PERMISSIONS, Perm, Portal, User
from autotrack.services import audit, policy, security_log
from autotrack.services.errors import ValidationError

PERMISSION_LABELS = {
    Perm.TICKET_CREATE: "Raise tickets",
    Perm.TICKET_VIEW_DEPARTMENT: "See the tickets of their departments",
    Perm.TICKET_VIEW_ALL: "See every ticket of the organization",
    Perm.TICKET_ASSIGN: "Assign tickets and move them between departments",
    Perm.TICKET_TRANSITION: "Work tickets: reply, set pending, resolve, close",
    Perm.TICKET_COMMENT_INTERNAL: "Write internal notes",
    Perm.TICKET_CHANGE_PRIORITY: "Change the priority",
    Perm.REPORT_VIEW: "See the manager's view and SLA reports",
    Perm.SETTINGS_MANAGE: "Manage the organization (the console)",
    Perm.USER_MANAGE: "Manage users",
}
PORTAL_CHOICES = [
    (Portal.EMPLOYEE.value, "Employee portal"),
    (Portal.AGENT.value, "Agent portal"),
    (Portal.MANAGER.value, "Manager view"),
    (Portal.ADMIN.value, "Console"),
]


def apply(role, permissions, *, actor=None, is_created=False):
    """Give `role` these permissions (the built-in org admin role keeps all of them) and record
    the change; refuses what would leave the organization without anyone to manage it."""
    wanted = {Perm(p) for p in permissions if p in ALL_PERMISSIONS}
    if role.builtin == "org_admin":
        wanted = set(ALL_PERMISSIONS)
    if role.portal not in {value for value, _ in PORTAL_CHOICES}:
        raise ValidationError("Choose the portal the role works in.", {"portal": "Not a portal."})
    before = set() if is_created else set(role.permissions)
    role.set_permissions(wanted)
    db.session.flush()
    managers = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.org_id == role.org_id, User.active.is_(True), User.role_id.in_(policy.org_admin_role_ids()))
    )
    if not managers:
        raise ValidationError(
            "Nobody would be left to manage the organization: keep “Manage the organization” "
            "on a role someone active holds.",
            {"permission_set": "Keep an admin."},
        )
    if is_created or before != wanted:
        added, removed = sorted(wanted - before), sorted(before - wanted)
        detail = "; ".join(
            filter(
                None, (f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else "")
            )
        )
        audit.record(
            role.org_id,
            "role_created" if is_created else "role_changed",
            actor=actor,
            to_value=role.name,
            detail=detail or "no permissions",
        )
        security_log.record("role_edited", user=actor, org_id=role.org_id, detail=f"{role.name}: {detail}")
    return role


def check_deletable(role):
    if role.builtin:
        raise ValidationError(f"{role.name} is a built-in role; it can be changed, not deleted.")
    holders = db.session.scalar(select(func.count()).select_from(User).where(User.role_id == role.id))
    if holders:
        raise ValidationError(f"{holders} user(s) hold {role.name}: give them another role first.")
