"""Test data built through the real services, so tests see what users would create."""

import itertools

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Category, Priority, Status
from autotrack.models.types import utcnow
from autotrack.services import tickets
from autotrack.services.org import orgs
from autotrack.services.people import accounts

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_org(slug, timezone="UTC"):
    org = orgs.create_org(
        f"{slug.title()} Ltd",
        slug,
        admin_email=f"admin@{slug}.example",
        admin_password=PASSWORD,
        timezone=timezone,
        admin_name=f"{slug} admin",
    )
    db.session.commit()
    return org


def admin_of(org):
    return accounts.user_by_email(f"admin@{org.slug}.example")


def make_department(org, name=None):
    department = orgs.create_department(org, name or f"Dept {next(_seq)}")
    db.session.commit()
    return department


def default_department(org):
    return orgs.department_by_name(org, "Support")


def make_user(org, role="employee", department=None, lead=False, email=None, name=None):
    n = next(_seq)
    if department is None and role in ("agent", "manager"):
        department = default_department(org)
    user = orgs.create_user(
        org,
        email or f"{role}{n}@{org.slug}.example",
        role_key=role,
        password=PASSWORD,
        name=name or f"{role.title()} {n}",
        department=department,
        lead=lead,
    )
    db.session.commit()
    return user


def priority(org, name):
    return db.session.scalar(select(Priority).where(Priority.org_id == org.id, Priority.name == name))


def status(org, name):
    return db.session.scalar(select(Status).where(Status.org_id == org.id, Status.name == name))


def make_category(org, path, default_priority=None, default_department=None):
    """A category node at `path` (A/B/C), creating missing parents."""
    parent = None
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        sub = "/".join(parts[:depth])
        node = db.session.scalar(select(Category).where(Category.org_id == org.id, Category.path == sub))
        if node is None:
            node = Category(org_id=org.id, name=parts[depth - 1], path=sub, depth=depth, parent=parent)
            db.session.add(node)
        parent = node
    if default_priority is not None:
        parent.default_priority = (
            priority(org, default_priority) if isinstance(default_priority, str) else default_priority
        )
    if default_department is not None:
        parent.default_department = default_department
    db.session.commit()
    return parent


def make_ticket(requester, title="Printer is on fire", **kwargs):
    kwargs.setdefault("description", "Details.")
    kwargs.setdefault("now", utcnow())
    ticket = tickets.create_ticket(requester, title=title, **kwargs)
    db.session.commit()
    return ticket


def make_ticket_in(state, requester, agent):
    """A ticket moved to lifecycle `state` through the service, `agent` working it."""
    ticket = make_ticket(requester)
    steps = {
        "new": [],
        "open": ["assign"],
        "pending": ["assign", "wait"],
        "resolved": ["assign", "resolve"],
        "closed": ["assign", "resolve", "close"],
    }[state]
    for action in steps:
        tickets.transition(agent, ticket, action, assignee=agent if action == "assign" else None, now=utcnow())
    db.session.commit()
    return ticket
