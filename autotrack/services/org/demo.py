"""The demo organization `acme`: every role, a category tree and 50 tickets in all states.

The demo reads like a helpdesk that has been running for ten days: its history is played in
time order through the real services, with the SLA sweep run at each moment a threshold
passed (as the scheduler would have), so warnings, breaches and escalations carry their real
times and a sweep right after seeding has nothing left to do. Mail of the history counts as
delivered except that of its last hour, and each person has only their newest few
notifications unread.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from autotrack.extensions import db
from autotrack.models import (
    Category,
    DirectoryEntry,
    MemberRole,
    Notification,
    Organization,
    OutboxEmail,
    OutboxStatus,
    Priority,
    Ticket,
)
from autotrack.services import policy, sla, tickets
from autotrack.services.errors import ValidationError
from autotrack.services.org import orgs
from autotrack.services.people import accounts

DEMO_SLUG = "acme"
DEMO_PASSWORD = "autotrack-demo"
# email, name, role, department (agents and managers work there), lead
DEMO_USERS = [
    ("admin@acme.example", "Ada Admin", "org_admin", None, False),
    ("manager@acme.example", "Max Manager", "manager", "IT", False),
    ("finance.manager@acme.example", "Fiona Finance", "manager", "Finance", False),
    ("hr.manager@acme.example", "Hugo Hr", "manager", "HR", False),
    ("lead@acme.example", "Lena Lead", "agent", "IT", True),
    ("agent@acme.example", "Alex Agent", "agent", "IT", False),
    ("agent2@acme.example", "Sam Support", "agent", "IT", False),
    ("finance.agent@acme.example", "Frank Ledger", "agent", "Finance", True),
    ("hr.agent@acme.example", "Hanna People", "agent", "HR", True),
    ("employee@acme.example", "Emma Employee", "employee", "Finance", False),
    ("employee2@acme.example", "Erik Engineer", "employee", "IT", False),
    ("employee3@acme.example", "Eva Events", "employee", "HR", False),
]
# path, default priority, default department (top-level nodes route, deeper nodes refine)
DEMO_CATEGORIES = [
    ("IT", None, "IT"),
    ("IT/Hardware", None, None),
    ("IT/Hardware/Laptop", None, None),
    ("IT/Hardware/Printer", "P4", None),
    ("IT/Software", None, None),
    ("IT/Software/Access request", None, None),
    ("IT/Network", None, None),
    ("IT/Network/VPN down", "P2", None),
    ("HR", None, "HR"),
    ("HR/Payroll", None, None),
    ("HR/Payroll/Payslip question", None, None),
    ("HR/Leave", None, None),
    ("HR/Leave/Leave request", "P4", None),
    ("Finance", None, "Finance"),
    ("Finance/Payments", "P1", None),
    ("Finance/Payments/Refund failed", None, None),
    ("Finance/Expenses", None, None),
    ("Finance/Expenses/Expense claim", "P3", None),
]
# Titles people would write for each leaf category.
TITLES = {
    "Laptop": ["Laptop will not boot", "Laptop battery dies in an hour", "Keyboard keys stuck"],
    "Printer": ["Printer on 3rd floor jams", "Cannot print to the colour printer"],
    "Access request": ["Need access to the CRM", "Please add me to the Finance share"],
    "VPN down": ["VPN drops every hour", "VPN will not connect from home"],
    "Payslip question": ["Payslip shows wrong tax code", "Overtime missing on my payslip"],
    "Leave request": ["Leave request stuck in approval", "Holiday balance looks wrong"],
    "Refund failed": ["Customer refund failed twice", "Refund to supplier bounced"],
    "Expense claim": ["Expense claim rejected without reason", "Mileage claim not paid"],
}
# How many demo tickets end in each lifecycle state.
STATE_PLAN = [("new", 10), ("open", 14), ("pending", 8), ("resolved", 9), ("closed", 9)]
# Raised within the last hour (minutes before seeding), so the demo has something fresh:
# the first tickets of these states. The open one's resolution clock still runs at seeding
# (every resolution target is longer than an hour), so a later sweep has work to do.
FRESH = {("new", 1): 12, ("new", 2): 35, ("open", 1): 58}
HISTORY_HOURS = 240  # how far back the oldest demo ticket may start
UNREAD_PER_PERSON = 5  # each person's newest notifications stay unread; older ones were read
READ_AFTER = timedelta(minutes=20)  # when an older notification was read, after it came
MAIL_PENDING_FOR = timedelta(hours=1)  # mail of the history's last hour is not delivered yet
# A resolved or closed demo ticket started at least this long ago: its story is over by seeding.
MIN_AGE = {"resolved": timedelta(hours=3), "closed": timedelta(hours=6)}


def demo_logins():
    return [(email, role, DEMO_PASSWORD) for email, _, role, _, _ in DEMO_USERS]


def demo_exists():
    return db.session.scalar(select(Organization.id).where(Organization.slug == DEMO_SLUG)) is not None


def other_organizations():
    """How many organizations the database holds besides the demo's."""
    return db.session.scalar(select(func.count()).select_from(Organization).where(Organization.slug != DEMO_SLUG))


def seed_demo(now):
    """Create the demo organization with its history up to `now`, into an empty database only:
    the history's SLA sweeps commit as the scheduler's do and cover every organization, so they
    would act on another organization's tickets at back-dated times. The caller commits the rest."""
    if other_organizations():
        raise ValidationError("The demo is seeded only into an empty database; this one has other organizations.")
    rng = random.Random(1042)
    org = orgs.create_org(
        "Acme Corporation",
        DEMO_SLUG,
        admin_email=DEMO_USERS[0][0],
        admin_password=DEMO_PASSWORD,
        timezone="Europe/London",
        admin_name=DEMO_USERS[0][1],
    )
    departments = {name: orgs.create_department(org, name) for name in ("IT", "HR", "Finance")}
    priorities = {p.name: p for p in db.session.scalars(select(Priority).where(Priority.org_id == org.id))}

    by_path = {}
    for path, priority, department in DEMO_CATEGORIES:
        parent_path, _, name = path.rpartition("/")
        node = Category(
            org_id=org.id,
            name=name,
            path=path,
            depth=path.count("/") + 1,
            parent=by_path.get(parent_path),
            default_priority=priorities.get(priority),
            default_department=departments.get(department),
        )
        db.session.add(node)
        by_path[path] = node
    leaves = [node for path, node in by_path.items() if node.depth == 3]

    users = {}
    for email, name, role, department, lead in DEMO_USERS[1:]:
        users[email] = orgs.create_user(
            org, email, role_key=role, password=DEMO_PASSWORD, name=name, department=departments[department], lead=lead
        )
    # The IT team also staffs Support, the organization's default department: a ticket raised
    # without a category (portal or API) lands there and must have someone to work it.
    support = orgs.department_by_name(org, "Support")
    for email in ("lead@acme.example", "agent@acme.example", "agent2@acme.example"):
        orgs.add_member(support, users[email], MemberRole.AGENT, lead=email.startswith("lead"))
    orgs.add_member(support, users["manager@acme.example"], MemberRole.MANAGER)
    admin = accounts.user_by_email(DEMO_USERS[0][0])
    for number, (email, user) in enumerate(sorted(users.items()), start=1):
        if not policy.is_staff(user):
            first, _, last = user.name.partition(" ")
            user.employee_id = f"E{number:04d}"
            db.session.add(
                DirectoryEntry(
                    org_id=org.id,
                    employee_id=user.employee_id,
                    first_name=first,
                    last_name=last,
                    email=email,
                    department_id=user.department_id,
                )
            )
    for number, (first, last, dept) in enumerate(
        [("Nora", "Newhire", "IT"), ("Olaf", "Onboard", "Finance"), ("Pia", "Pending", "HR")], start=100
    ):
        db.session.add(
            DirectoryEntry(
                org_id=org.id,
                employee_id=f"E{number:04d}",
                first_name=first,
                last_name=last,
                email=f"{first.lower()}@acme.example",
                department_id=departments[dept].id,
            )
        )
    db.session.flush()

    employees = [u for u in users.values() if not policy.is_staff(u)]
    steps = []
    count = 0
    for state, how_many in STATE_PLAN:
        for nth in range(1, how_many + 1):
            count += 1
            fresh = FRESH.get((state, nth))
            if fresh is not None:
                created = now - timedelta(minutes=fresh)
            else:
                age = timedelta(hours=rng.randint(1, HISTORY_HOURS), minutes=rng.randint(0, 59))
                created = now - max(age, MIN_AGE.get(state, age))
            category = rng.choice(leaves)
            story = _Story(
                requester=rng.choice(employees),
                category=category,
                title=rng.choice(TITLES[category.name]),
                description=f"Demo ticket #{count}. Details as the requester wrote them.",
            )
            steps.extend(_plan(story, state, created, rng, admin))
    _play(org, steps, now)
    _settle(org, now)
    return org


@dataclass
class _Story:
    """One demo ticket: what its requester raised, and the ticket once the history created it."""

    requester: object
    category: object
    title: str
    description: str
    ticket: object = None


def _department_of(category):
    """Where a ticket of `category` is routed: the most specific node that names a department."""
    node = category
    while node is not None and node.default_department is None:
        node = node.parent
    return node.default_department if node is not None else None


def _plan(story, state, created, rng, admin):
    """[(time, action)] that take one demo ticket to `state` through the real service calls,
    with replies."""

    def create():
        story.ticket = tickets.create_ticket(
            story.requester, title=story.title, category=story.category, description=story.description, now=created
        )

    plan = [(created, create)]
    if state == "new":
        return plan
    department = _department_of(story.category)
    agents = [m.user for m in (department.members if department else []) if m.role == "agent"] or [admin]
    agent = rng.choice(agents)
    step = created + timedelta(minutes=rng.randint(5, 50))

    plan.append((step, lambda: tickets.assign(agent, story.ticket, agent, now=step)))
    reply_at = step + timedelta(minutes=1)
    plan.append(
        (reply_at, lambda: tickets.add_comment(agent, story.ticket, "Thanks, I am looking into it.", now=reply_at))
    )
    if rng.random() < 0.3:
        note_at = step + timedelta(minutes=2)
        plan.append(
            (
                note_at,
                lambda: tickets.add_comment(
                    agent, story.ticket, "Checked the logs; looks like a config issue.", internal=True, now=note_at
                ),
            )
        )
    if state == "pending":
        wait_at = step + timedelta(minutes=3)
        plan.append((wait_at, lambda: tickets.transition(agent, story.ticket, "wait", now=wait_at)))
    elif state in ("resolved", "closed"):
        resolve_at = step + timedelta(hours=2)
        plan.append((resolve_at, lambda: tickets.transition(agent, story.ticket, "resolve", now=resolve_at)))
        if state == "closed":
            close_at = step + timedelta(hours=5)
            plan.append(
                (close_at, lambda: tickets.transition(story.ticket.requester, story.ticket, "close", now=close_at))
            )
    return plan


def _play(org, steps, now):
    """Run the steps in time order, and before each one the SLA sweep at every moment a
    deadline, warning or escalation level of the demo passed (to the minute, as the scheduler
    runs it), the last one at `now`."""
    ordered = sorted(enumerate(steps), key=lambda item: (item[1][0], item[0]))
    for _, (at, action) in ordered:
        _sweep_until(org, at)
        action()
    _sweep_until(org, now)
    sla.sweep(now)  # the scheduler's sweep at seeding time: whatever is due now, and its digests


def _sweep_until(org, moment):
    """Sweep at each moment before `moment` when something of the demo's tickets fell due."""
    while True:
        db.session.flush()
        due = db.session.scalar(select(func.min(Ticket.sla_next_check_at)).where(Ticket.org_id == org.id))
        if due is None or due >= moment:
            return
        minute = due.replace(second=0, microsecond=0)
        at = minute if minute == due else minute + timedelta(minutes=1)  # the next run of a per-minute job
        sla.sweep(min(at, moment))


def _settle(org, now):
    """What happened long enough ago has been dealt with: each person has read all but their
    newest few notifications, and the history's mail went out, except its last hour's."""
    db.session.flush()
    rows = db.session.execute(
        select(Notification.id, Notification.user_id, Notification.created_at)
        .where(Notification.org_id == org.id)
        .order_by(Notification.user_id, Notification.created_at.desc(), Notification.id.desc())
    ).all()
    seen = {}
    for note_id, user_id, created_at in rows:
        seen[user_id] = seen.get(user_id, 0) + 1
        if seen[user_id] > UNREAD_PER_PERSON:
            db.session.execute(
                update(Notification)
                .where(Notification.id == note_id)
                .values(read_at=min(created_at + READ_AFTER, now)),
                execution_options={"synchronize_session": False},
            )
    db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.org_id == org.id,
            OutboxEmail.status == OutboxStatus.PENDING,
            OutboxEmail.next_attempt_at < now - MAIL_PENDING_FOR,
        )
        .values(status=OutboxStatus.SENT, attempts=1, sent_at=OutboxEmail.next_attempt_at),
        execution_options={"synchronize_session": False},
    )
