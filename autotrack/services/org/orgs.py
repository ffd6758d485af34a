"""Creating organizations (with usable defaults) and their users."""

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import (
    BUILTIN_ROLES,
    BusinessCalendar,
    Department,
    DepartmentMember,
    EscalationRule,
    EscalationTarget,
    Lifecycle,
    LowRatingAction,
    MemberRole,
    Organization,
    Priority,
    Role,
    SlaCalendar,
    Status,
    User,
    WorkingHours,
)
from autotrack.services import policy
from autotrack.services.errors import ValidationError
from autotrack.services.people import users
from autotrack.services.people.accounts import normalize_email, set_password

# name, weight, first response minutes, resolution minutes, calendar (DESIGN.md defaults)
DEFAULT_PRIORITIES = [
    ("P1", 4, 15, 120, SlaCalendar.ALWAYS),
    ("P2", 3, 60, 360, SlaCalendar.BUSINESS_HOURS),
    ("P3", 2, 240, 1440, SlaCalendar.BUSINESS_HOURS),
    ("P4", 1, 480, 4320, SlaCalendar.BUSINESS_HOURS),
]
DEFAULT_PRIORITY = "P3"
# name, colour, lifecycle category
DEFAULT_STATUSES = [
    ("New", "#0d6efd", Lifecycle.NEW),
    ("Open", "#198754", Lifecycle.OPEN),
    ("Pending", "#fd7e14", Lifecycle.PENDING),
    ("Resolved", "#6f42c1", Lifecycle.RESOLVED),
    ("Closed", "#6c757d", Lifecycle.CLOSED),
]
# level, minutes after breach, who is notified, reassign
DEFAULT_ESCALATIONS = [
    (1, 0, EscalationTarget.LEAD, False),
    (2, 60, EscalationTarget.MANAGER, False),
    (3, 240, EscalationTarget.ORG_ADMIN, False),
]
DEFAULT_HOURS = (time(9, 0), time(17, 0))
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


def validate_timezone(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"Unknown timezone {name!r}.", {"timezone": "Use an IANA name such as Europe/Berlin."}
        ) from None
    return name


def create_org(name, slug, *, admin_email, admin_password, timezone="UTC", admin_name=None):
    """A new organization, usable at once: roles, priorities, statuses, calendar, escalations,
    a `Support` department and its first org admin."""
    slug = (slug or "").strip().lower()
    name = (name or "").strip()
    if not name:
        raise ValidationError("The organization needs a name.", {"name": "Required."})
    if not SLUG_RE.match(slug):
        raise ValidationError("The slug must be 3–40 lower-case letters, digits or dashes.", {"slug": "Invalid slug."})
    if db.session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise ValidationError(f"An organization with slug {slug!r} exists already.", {"slug": "Taken."})
    validate_timezone(timezone)

    org = Organization(
        name=name, slug=slug, ticket_prefix=re.sub(r"[^A-Z0-9]", "", slug.upper())[:12], timezone=timezone
    )
    db.session.add(org)
    db.session.flush()
    for key, (role_name, portal, permissions) in BUILTIN_ROLES.items():
        role = Role(org_id=org.id, name=role_name, builtin=key, portal=portal)
        role.set_permissions(permissions)
        db.session.add(role)
    for prio_name, weight, first, resolution, calendar in DEFAULT_PRIORITIES:
        db.session.add(
            Priority(
                org_id=org.id,
                name=prio_name,
                weight=weight,
                first_response_minutes=first,
                resolution_minutes=resolution,
                calendar=calendar,
                is_default=prio_name == DEFAULT_PRIORITY,
            )
        )
    for position, (status_name, color, category) in enumerate(DEFAULT_STATUSES):
        db.session.add(
            Status(org_id=org.id, name=status_name, color=color, position=position, category=category, is_default=True)
        )
    calendar = BusinessCalendar(org_id=org.id)
    start, end = DEFAULT_HOURS
    calendar.hours = [
        WorkingHours(weekday=day, start_minute=start.hour * 60 + start.minute, end_minute=end.hour * 60 + end.minute)
        for day in range(5)
    ]
    db.session.add(calendar)
    for level, delay, target, reassign in DEFAULT_ESCALATIONS:
        db.session.add(
            EscalationRule(org_id=org.id, level=level, delay_minutes=delay, notify=target, reassign=reassign)
        )
    db.session.add(Department(org_id=org.id, name="Support", is_default=True))
    db.session.flush()
    create_user(
        org, admin_email, role_key="org_admin", password=admin_password, name=admin_name or "Organization admin"
    )
    return org


def create_department(org, name):
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError("A department needs a name of at most 120 characters.", {"name": "Invalid name."})
    if db.session.scalar(select(Department.id).where(Department.org_id == org.id, Department.name == name)):
        raise ValidationError(f"Department {name!r} exists already.", {"name": "Taken."})
    department = Department(org_id=org.id, name=name)
    db.session.add(department)
    db.session.flush()
    return department


def role_by_key(org, key):
    """A role by built-in key (`agent`) or by name (`Senior agent`), case-insensitive."""
    roles = db.session.scalars(select(Role).where(Role.org_id == org.id)).all()
    wanted = (key or "").strip().lower()
    for role in roles:
        if (role.builtin or "") == wanted or role.name.lower() == wanted:
            return role
    raise ValidationError(f"Unknown role {key!r}.", {"role": "Unknown role."})


def department_by_name(org, name):
    dept = db.session.scalar(
        select(Department).where(Department.org_id == org.id, Department.name == (name or "").strip())
    )
    if dept is None:
        raise ValidationError(f"Unknown department {name!r}.", {"department": "Unknown department."})
    return dept


def create_user(org, email, *, role_key="employee", password=None, name=None, department=None, lead=False):
    """A user of `org`; staff roles join `department` as agent (or lead) or manager."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise ValidationError("Enter a valid email address.", {"email": "Invalid email address."})
    users.check_email_usable(email)  # taken here or elsewhere: the same words, naming no one
    role = role_by_key(org, role_key)
    if isinstance(department, str):
        department = department_by_name(org, department)
    user = User(org_id=org.id, email=email, name=(name or email.split("@")[0]).strip()[:120], role=role)
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    if department is not None:
        seat = policy.department_seat(role)
        if seat is None:
            user.department_id = department.id
        else:
            add_member(department, user, seat, lead=lead)
    return user


def add_member(department, user, role, lead=False):
    """Put `user` into `department` as manager or agent; idempotent."""
    if department.org_id != user.org_id:
        raise ValidationError("That department belongs to another organization.")
    member = db.session.scalar(
        select(DepartmentMember).where(
            DepartmentMember.department_id == department.id,
            DepartmentMember.user_id == user.id,
            DepartmentMember.role == role,
        )
    )
    if member is None:
        member = DepartmentMember(org_id=user.org_id, department=department, user=user, role=role)
        db.session.add(member)
    member.is_lead = bool(lead) and role == MemberRole.AGENT
    db.session.flush()
    return member


def set_department_members(department, *, managers=None, agents=None, leads=None):
    """Make the department's managers, agents and leads exactly these users; None leaves that
    group as it is. Leads are agents who receive the first escalation level."""
    current = {"managers": [], "agents": [], "leads": []}
    for member in department.members:
        if member.role == MemberRole.MANAGER:
            current["managers"].append(member.user)
        else:
            current["agents"].append(member.user)
            if member.is_lead:
                current["leads"].append(member.user)
    managers = current["managers"] if managers is None else list(managers)
    agents = current["agents"] if agents is None else list(agents)
    leads = current["leads"] if leads is None else list(leads)
    for user in {*managers, *agents}:
        if user.org_id != department.org_id:
            raise ValidationError("That user belongs to another organization.")
    for user in managers:
        if not policy.can_manage_departments(user):
            raise ValidationError(
                f"{user.email} cannot manage a department: give them the manager role first.",
                {"managers": "Managers only."},
            )
    for user in agents:
        if not policy.is_staff(user):
            raise ValidationError(f"{user.email} is an employee, not support staff.", {"agents": "Staff only."})
    agent_ids = {user.id for user in agents}
    for user in leads:
        if user.id not in agent_ids:
            raise ValidationError(
                f"{user.email} must be one of the department's agents to lead it.", {"leads": "Leads must be agents."}
            )
    wanted = {(user.id, MemberRole.MANAGER) for user in managers} | {(user.id, MemberRole.AGENT) for user in agents}
    for member in list(department.members):
        if (member.user_id, member.role) not in wanted:
            department.members.remove(member)
    db.session.flush()
    lead_ids = {user.id for user in leads}
    for user in managers:
        add_member(department, user, MemberRole.MANAGER)
    for user in agents:
        add_member(department, user, MemberRole.AGENT, lead=user.id in lead_ids)
    return department


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIOD_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")


def parse_periods(text, field):
    """'09:00-12:00, 13:00-17:00' -> [(540, 720), (780, 1020)]; empty text is a day off."""
    periods = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        match = _PERIOD_RE.match(part)
        if not match:
            raise ValidationError(f"{field}: write hours like 09:00-17:00.", {field: "Write hours like 09:00-17:00."})
        h1, m1, h2, m2 = map(int, match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or start >= end:
            raise ValidationError(
                f"{field}: {part} is not a period within one day.", {field: f"{part} is not a period within one day."}
            )
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            raise ValidationError(f"{field}: the periods overlap.", {field: "The periods overlap."})
    return periods


def format_periods(periods):
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in periods)


def weekly_hours(org):
    """weekday -> [(start minute, end minute)] of the organization's business calendar."""
    calendar = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.org_id == org.id))
    hours = {day: [] for day in range(7)}
    for period in calendar.hours:
        hours[period.weekday].append((period.start_minute, period.end_minute))
    return hours


def update_settings(
    org, *, name, timezone, warning_percent, hours, low_rating_action=None, require_2fa_for_admins=None
):
    """Change the organization's name, timezone, SLA warning point, weekly business hours and
    what a low rating does. A change to the SLA settings is recomputed on the open tickets by
    the next sweep (services/sla/changes.py); hours saved unchanged are left alone."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError("The organization needs a name of at most 120 characters.", {"name": "Required."})
    validate_timezone(timezone)
    if not isinstance(warning_percent, int) or not 1 <= warning_percent <= 99:
        raise ValidationError(
            "The warning point is a percentage between 1 and 99.", {"sla_warning_percent": "Between 1 and 99."}
        )
    if not any(hours.values()):
        raise ValidationError(
            "Business hours need at least one working period in the week.", {"monday": "Add working hours."}
        )
    if low_rating_action is not None:
        if low_rating_action not in set(LowRatingAction):
            raise ValidationError("Choose what a low rating does.", {"low_rating_action": "Not a choice."})
        org.low_rating_action = low_rating_action
    if require_2fa_for_admins is not None:
        org.require_2fa_for_admins = bool(require_2fa_for_admins)
    org.name, org.timezone, org.sla_warning_percent = name, timezone, warning_percent
    calendar = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.org_id == org.id))
    wanted = sorted((day, start, end) for day in range(7) for start, end in hours.get(day, []))
    if wanted != sorted((h.weekday, h.start_minute, h.end_minute) for h in calendar.hours):
        calendar.hours = [WorkingHours(weekday=day, start_minute=start, end_minute=end) for day, start, end in wanted]
    db.session.flush()
    return org
