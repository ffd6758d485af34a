"""The demo organization `acme`: every role, a category tree and ~50 tickets in all states."""
import random
from datetime import timedelta

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Category, DirectoryEntry, MemberRole, Organization, Priority, utcnow
from autotrack.services import orgs, tickets

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


def demo_logins():
    return [(email, role, DEMO_PASSWORD) for email, _, role, _, _ in DEMO_USERS]


def demo_exists():
    return db.session.scalar(select(Organization.id).where(Organization.slug == DEMO_SLUG)) is not None


def seed_demo(now=None):
    """Create the demo organization (flushes; the caller commits)."""
    now = now or utcnow()
    rng = random.Random(1042)
    org = orgs.create_org("Acme Corporation", DEMO_SLUG, admin_email=DEMO_USERS[0][0],
                          admin_password=DEMO_PASSWORD, timezone="Europe/London", admin_name=DEMO_USERS[0][1])
    departments = {name: orgs.create_department(org, name) for name in ("IT", "HR", "Finance")}
    priorities = {p.name: p for p in db.session.scalars(select(Priority).where(Priority.org_id == org.id))}

    by_path = {}
    for path, priority, department in DEMO_CATEGORIES:
        parent_path, _, name = path.rpartition("/")
        node = Category(org_id=org.id, name=name, path=path, depth=path.count("/") + 1,
                        parent=by_path.get(parent_path),
                        default_priority=priorities.get(priority), default_department=departments.get(department))
        db.session.add(node)
        by_path[path] = node
    leaves = [node for path, node in by_path.items() if node.depth == 3]

    users = {}
    for email, name, role, department, lead in DEMO_USERS[1:]:
        users[email] = orgs.create_user(org, email, role_key=role, password=DEMO_PASSWORD, name=name,
                                        department=departments[department], lead=lead)
    # The IT team also staffs Support, the organization's default department: a ticket raised
    # without a category (portal or API) lands there and must have someone to work it.
    support = orgs.department_by_name(org, "Support")
    for email in ("lead@acme.example", "agent@acme.example", "agent2@acme.example"):
        orgs.add_member(support, users[email], MemberRole.AGENT, lead=email.startswith("lead"))
    orgs.add_member(support, users["manager@acme.example"], MemberRole.MANAGER)
    admin = orgs.user_by_email(DEMO_USERS[0][0])
    for number, (email, user) in enumerate(sorted(users.items()), start=1):
        if user.role.builtin == "employee":
            first, _, last = user.name.partition(" ")
            user.employee_id = f"E{number:04d}"
            db.session.add(DirectoryEntry(org_id=org.id, employee_id=user.employee_id, first_name=first,
                                          last_name=last, email=email, department_id=user.department_id))
    for number, (first, last, dept) in enumerate(
            [("Nora", "Newhire", "IT"), ("Olaf", "Onboard", "Finance"), ("Pia", "Pending", "HR")], start=100):
        db.session.add(DirectoryEntry(org_id=org.id, employee_id=f"E{number:04d}", first_name=first, last_name=last,
                                      email=f"{first.lower()}@acme.example", department_id=departments[dept].id))
    db.session.flush()

    employees = [u for u in users.values() if u.role.builtin == "employee"]
    count = 0
    for state, how_many in STATE_PLAN:
        for _ in range(how_many):
            count += 1
            created = now - timedelta(hours=rng.randint(1, 240), minutes=rng.randint(0, 59))
            category = rng.choice(leaves)
            ticket = tickets.create_ticket(
                rng.choice(employees), title=rng.choice(TITLES[category.name]), category=category, now=created,
                description=f"Demo ticket #{count}. Details as the requester wrote them.",
            )
            _play_to_state(ticket, state, created, rng, admin)
    db.session.flush()
    return org


def _play_to_state(ticket, state, created, rng, admin):
    """Move a fresh demo ticket to `state` through the real service calls, with replies."""
    if state == "new":
        return
    agents = [m.user for m in ticket.department.members if m.role == "agent"] or [admin]
    agent = rng.choice(agents)
    step = created + timedelta(minutes=rng.randint(5, 50))
    tickets.assign(agent, ticket, agent, now=step)
    tickets.add_comment(agent, ticket, "Thanks, I am looking into it.", now=step + timedelta(minutes=1))
    if rng.random() < 0.3:
        tickets.add_comment(agent, ticket, "Checked the logs; looks like a config issue.", internal=True,
                            now=step + timedelta(minutes=2))
    if state == "open":
        return
    if state == "pending":
        tickets.transition(agent, ticket, "wait", now=step + timedelta(minutes=3))
        return
    tickets.transition(agent, ticket, "resolve", now=step + timedelta(hours=2))
    if state == "closed":
        tickets.transition(ticket.requester, ticket, "close", now=step + timedelta(hours=5))
