"""The agent's queues: which tickets, filtered how, in what order; keyset pages throughout."""
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from autotrack.extensions import db
from autotrack.models import ACTIVE_STATES, Category, Priority, Status, Ticket, User, utcnow
from autotrack.services import sla
from autotrack.services.tenancy import parse_id, visible_tickets

PER_PAGE = 50
VIEWS = {
    "mine": "Assigned to me",
    "unassigned": "Unassigned",
    "at_risk": "At risk",
    "open": "All open",
    "all": "Everything",
}
SLA_STATES = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached"}
_NUMBER = re.compile(r"^(?:[A-Za-z0-9]+-)?(\d{1,9})$")


@dataclass
class Filters:
    """A queue request, every value checked against what the organization has (unknown: ignored)."""

    view: str = "open"
    status_id: int | None = None
    priority_id: int | None = None
    category_id: int | None = None
    assignee: str = ""  # a user id, "none", or ""
    sla_state: str = ""
    q: str = ""
    args: dict = field(default_factory=dict)  # the accepted values, for links to the next page

    @classmethod
    def parse(cls, user, args):
        f = cls(view=args.get("view") if args.get("view") in VIEWS else "open")
        org_id = user.org_id
        f.status_id = _owned(Status, args.get("status"), org_id)
        f.priority_id = _owned(Priority, args.get("priority"), org_id)
        f.category_id = _owned(Category, args.get("category"), org_id)
        assignee = args.get("assignee", "")
        if assignee == "none" or _owned(User, assignee, org_id):
            f.assignee = assignee
        f.sla_state = args.get("sla") if args.get("sla") in SLA_STATES else ""
        f.q = (args.get("q") or "").strip()[:100]
        f.args = {key: value for key, value in (
            ("view", f.view), ("status", f.status_id), ("priority", f.priority_id), ("category", f.category_id),
            ("assignee", f.assignee), ("sla", f.sla_state), ("q", f.q)) if value}
        return f


def _owned(model, raw, org_id):
    ident = parse_id(raw) if raw else None
    if ident is None:
        return None
    return db.session.scalar(select(model.id).where(model.id == ident, model.org_id == org_id))


# What each row of a queue shows, loaded with the page instead of once per row.
ROW_OPTIONS = (joinedload(Ticket.status), joinedload(Ticket.priority), joinedload(Ticket.department),
               joinedload(Ticket.assignee), joinedload(Ticket.organization))


def page(user, filters, cursor=None, now=None):
    """(tickets, next cursor). The at-risk queue runs soonest deadline first; the others newest first."""
    now = now or utcnow()
    query = _filtered(user, filters, now).options(*ROW_OPTIONS)
    if filters.view == "at_risk":
        return _page_by_due(query, cursor)
    ident = parse_id(cursor) if cursor else None
    if ident is not None:
        query = query.where(Ticket.id < ident)
    rows = db.session.scalars(query.order_by(Ticket.id.desc()).limit(PER_PAGE + 1)).all()
    return rows[:PER_PAGE], (str(rows[PER_PAGE - 1].id) if len(rows) > PER_PAGE else None)


def _filtered(user, f, now):
    query = visible_tickets(user)
    if f.view == "mine":
        query = query.where(Ticket.assignee_id == user.id, Ticket.state.in_(ACTIVE_STATES))
    elif f.view == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None), Ticket.state.in_(ACTIVE_STATES))
    elif f.view == "at_risk":
        # The state test stands alone so the (org_id, state) index narrows to running tickets first.
        query = query.where(Ticket.state.in_(sla.TICKING_STATES), sla.past_warning_clause(now))
    elif f.view == "open":
        query = query.where(Ticket.state.in_(ACTIVE_STATES))
    if f.status_id:
        query = query.where(Ticket.status_id == f.status_id)
    if f.priority_id:
        query = query.where(Ticket.priority_id == f.priority_id)
    if f.category_id:  # the category and everything under it
        path = db.session.scalar(select(Category.path).where(Category.id == f.category_id))
        below = select(Category.id).where(Category.org_id == user.org_id,
                                          or_(Category.path == path, Category.path.startswith(path + "/")))
        query = query.where(Ticket.category_id.in_(below))
    if f.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif f.assignee:
        query = query.where(Ticket.assignee_id == int(f.assignee))
    if f.sla_state == "breached":
        query = query.where(sla.overdue_clause(now))
    elif f.sla_state == "at_risk":
        query = query.where(sla.at_risk_clause(now))
    elif f.sla_state == "on_track":
        query = query.where(Ticket.state.in_(sla.TICKING_STATES), ~sla.at_risk_clause(now), ~sla.overdue_clause(now))
    if f.q:
        number = _NUMBER.match(f.q)
        if number:  # a ticket number finds that ticket through the (org_id, number) key
            query = query.where(Ticket.number == int(number.group(1)))
        else:
            query = query.where(Ticket.title.contains(f.q, autoescape=True))
    return query


def _page_by_due(query, cursor):
    """Soonest resolution deadline first; the cursor is "<deadline ISO>_<id>"."""
    if cursor and "_" in cursor:
        due_text, _, id_text = cursor.rpartition("_")
        try:
            due, ident = datetime.fromisoformat(due_text), int(id_text)
        except ValueError:
            due = ident = None
        if due is not None and due.tzinfo is not None:
            query = query.where(or_(Ticket.resolution_due_at > due,
                                    and_(Ticket.resolution_due_at == due, Ticket.id > ident)))
    rows = db.session.scalars(query.order_by(Ticket.resolution_due_at, Ticket.id).limit(PER_PAGE + 1)).all()
    if len(rows) <= PER_PAGE:
        return rows, None
    last = rows[PER_PAGE - 1]
    return rows[:PER_PAGE], f"{last.resolution_due_at.isoformat()}_{last.id}"
