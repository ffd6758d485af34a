"""The agent's queues: which tickets, filtered how, in what order; keyset pages throughout."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, false, or_, select, text, union
from sqlalchemy.orm import aliased, joinedload

from autotrack.extensions import db
from autotrack.models import ACTIVE_STATES, Category, Department, Organization, Priority, Status, Ticket, User
from autotrack.services import policy, sla
from autotrack.services.sqlutil import dialect_name
from autotrack.services.tenancy import find_scoped, parse_id, visible_tickets

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
_WORD = re.compile(r"\w+")
FULLTEXT_MIN_WORD = 3  # InnoDB's innodb_ft_min_token_size: shorter words are not in its index


@dataclass(frozen=True)
class FilterArgs:
    """What a queue request asks for, as the words of its query (unchecked): the web layer and
    the API read them from their requests; `Filters.parse` checks them."""

    view: str = ""
    status: str = ""  # ids, as given
    priority: str = ""
    category: str = ""
    assignee: str = ""  # a user id, "none", or ""
    sla: str = ""
    q: str = ""


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
        """The filters `args` (a FilterArgs) asks for that `user`'s organization has."""
        f = cls(view=args.view if args.view in VIEWS else "open")
        org_id = user.org_id
        f.status_id = _owned(Status, args.status, org_id)
        f.priority_id = _owned(Priority, args.priority, org_id)
        f.category_id = _owned(Category, args.category, org_id)
        if args.assignee == "none" or _owned(User, args.assignee, org_id):
            f.assignee = args.assignee
        f.sla_state = args.sla if args.sla in SLA_STATES else ""
        f.q = args.q.strip()[:100]
        f.args = {
            key: value
            for key, value in (
                ("view", f.view),
                ("status", f.status_id),
                ("priority", f.priority_id),
                ("category", f.category_id),
                ("assignee", f.assignee),
                ("sla", f.sla_state),
                ("q", f.q),
            )
            if value
        }
        return f


def _owned(model, raw, org_id):
    """The id of the organization's row that `raw` names; a filter naming nothing is no filter."""
    obj = find_scoped(model, raw, org_id) if raw else None
    return obj.id if obj is not None else None


# What each row of a queue shows, loaded with the page instead of once per row.
ROW_OPTIONS = (
    joinedload(Ticket.status),
    joinedload(Ticket.priority),
    joinedload(Ticket.department),
    joinedload(Ticket.assignee),
    joinedload(Ticket.organization),
)

_REQUESTER, _ASSIGNEE = aliased(User), aliased(User)
# What a list item shows, as one row: the ticket's own columns under their attribute names (the
# SLA badge's too, so sla.status_of reads a row as it reads a ticket) and the names of what it
# points to. Outer joins throughout, as ROW_OPTIONS's, so the tickets still lead the plan.
LIST_ROWS = (
    select(
        Ticket.id,
        Ticket.number,
        Organization.ticket_prefix,
        Ticket.title,
        Ticket.description,
        Ticket.state,
        Status.name.label("status_name"),
        Priority.name.label("priority_name"),
        Category.path.label("category_path"),
        Department.name.label("department_name"),
        _REQUESTER.id.label("requester_id"),
        _REQUESTER.name.label("requester_name"),
        _REQUESTER.email.label("requester_email"),
        _ASSIGNEE.id.label("assignee_id"),
        _ASSIGNEE.name.label("assignee_name"),
        _ASSIGNEE.email.label("assignee_email"),
        Ticket.escalation_level,
        Ticket.first_response_due_at,
        Ticket.first_response_warn_at,
        Ticket.first_response_breached_at,
        Ticket.first_response_at,
        Ticket.resolution_due_at,
        Ticket.resolution_warn_at,
        Ticket.resolution_breached_at,
        Ticket.resolved_at,
        Ticket.next_response_due_at,
        Ticket.next_response_warn_at,
        Ticket.next_response_breached_at,
        Ticket.next_response_at,
        Ticket.created_at,
        Ticket.updated_at,
    )
    .select_from(Ticket)
    .outerjoin(Organization, Organization.id == Ticket.org_id)
    .outerjoin(Status, Status.id == Ticket.status_id)
    .outerjoin(Priority, Priority.id == Ticket.priority_id)
    .outerjoin(Category, Category.id == Ticket.category_id)
    .outerjoin(Department, Department.id == Ticket.department_id)
    .outerjoin(_REQUESTER, _REQUESTER.id == Ticket.requester_id)
    .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Ticket.assignee_id)
)


def page(user, filters, cursor=None, *, now):
    """(tickets, next cursor). The at-risk queue runs soonest deadline first; the others newest first."""
    return _page(user, filters, cursor, now, select(Ticket).options(*ROW_OPTIONS), db.session.scalars)


def page_rows(user, filters, cursor=None, *, now):
    """The same page as `page`, as LIST_ROWS rows read in one statement: no entity per row and no
    lazy load (a page of 50 entities decoded ~5,800 values and then loaded each requester)."""
    return _page(user, filters, cursor, now, LIST_ROWS, db.session.execute)


def _page(user, filters, cursor, now, query, fetch):
    """(the page's rows of `query`, next cursor); `fetch` runs it (scalars: entities, execute: rows)."""
    conditions = _conditions(user, filters, now)
    by_due = filters.view == "at_risk"
    conditions += _after_due(cursor) if by_due else _after_id(cursor)
    # Lanes: every way `user` sees a ticket, read apart (see the two functions below). The lanes
    # are the visibility rule then, so the user's ways to see are read once per page.
    lanes = _lanes(user) if by_due or dialect_name() != "sqlite" else None
    if lanes is None:
        query = query.where(visible_tickets(user).whereclause)
    else:
        candidates = (_soonest_in_each_lane if by_due else _newest_in_each_lane)(user, lanes, conditions)
        query = query.where(Ticket.org_id == user.org_id).join(candidates, candidates.c.id == Ticket.id)
    order = (Ticket.resolution_due_at, Ticket.id) if by_due else (Ticket.id.desc(),)
    rows = fetch(query.where(*conditions).order_by(*order).limit(PER_PAGE + 1)).all()
    if len(rows) <= PER_PAGE:
        return rows, None
    last = rows[PER_PAGE - 1]
    return rows[:PER_PAGE], (f"{last.resolution_due_at.isoformat()}_{last.id}" if by_due else str(last.id))


def _after_id(cursor):
    """The newest-first page after `cursor` (a ticket id)."""
    ident = parse_id(cursor) if cursor else None
    return [] if ident is None else [Ticket.id < ident]


def _after_due(cursor):
    """The soonest-deadline-first page after `cursor` ("<deadline ISO>_<id>")."""
    if not cursor or "_" not in cursor:
        return []
    due_text, _, id_text = cursor.rpartition("_")
    try:
        due, ident = datetime.fromisoformat(due_text), int(id_text)
    except ValueError:
        return []
    if due.tzinfo is None:
        return []
    return [or_(Ticket.resolution_due_at > due, and_(Ticket.resolution_due_at == due, Ticket.id > ident))]


def _conditions(user, f, now):
    """The view's and the filters' conditions (visibility comes from visible_tickets)."""
    where = []
    if f.view == "mine":
        where += [Ticket.assignee_id == user.id, Ticket.state.in_(ACTIVE_STATES)]
    elif f.view == "unassigned":
        where += [Ticket.assignee_id.is_(None), Ticket.state.in_(ACTIVE_STATES)]
    elif f.view == "at_risk":
        where += [Ticket.state.in_(sla.TICKING_STATES), sla.past_warning_clause(now)]
    elif f.view == "open":
        where.append(Ticket.state.in_(ACTIVE_STATES))
    if f.status_id:
        where.append(Ticket.status_id == f.status_id)
    if f.priority_id:
        where.append(Ticket.priority_id == f.priority_id)
    if f.category_id:  # the category and everything under it
        path = db.session.scalar(select(Category.path).where(Category.id == f.category_id))
        below = select(Category.id).where(
            Category.org_id == user.org_id, or_(Category.path == path, Category.path.startswith(path + "/"))
        )
        where.append(Ticket.category_id.in_(below))
    if f.assignee == "none":
        where.append(Ticket.assignee_id.is_(None))
    elif f.assignee:
        where.append(Ticket.assignee_id == int(f.assignee))
    if f.sla_state == "breached":
        where.append(sla.overdue_clause(now))
    elif f.sla_state == "at_risk":
        where.append(sla.at_risk_clause(now))
    elif f.sla_state == "on_track":
        where += [Ticket.state.in_(sla.TICKING_STATES), ~sla.at_risk_clause(now), ~sla.overdue_clause(now)]
    if f.q:
        number = _NUMBER.match(f.q)
        if number:  # a ticket number finds that ticket through the (org_id, number) key
            where.append(Ticket.number == int(number.group(1)))
        else:
            where.append(words_clause(f.q))
    return where


def words_clause(q):
    """SQL: the ticket's title or description holds every word of `q`, each as a word or the
    start of one ("print" finds "printer"), ignoring case and accents. Uses the full-text index
    of migration 0005: FTS5 on SQLite, InnoDB FULLTEXT on MariaDB."""
    words = _WORD.findall(q)
    if not words:
        return false()
    if dialect_name() == "sqlite":
        expression = " AND ".join(f'"{word}"*' for word in words)
        matching = (
            select(text("rowid"))
            .select_from(text("tickets_fts"))
            .where(text("tickets_fts MATCH :words").bindparams(words=expression))
        )
        return Ticket.id.in_(matching)
    # InnoDB reads a word's whole list of tickets before intersecting, so a word found in
    # most tickets costs ~1 s at a million whatever else is asked. Only the most specific word
    # goes through the index (one with digits - a code, an asset tag - else the longest); the
    # others are checked with LIKE among its hits. Words under InnoDB's minimum length are never
    # in the index.
    indexed = [word for word in words if len(word) >= FULLTEXT_MIN_WORD]
    if not indexed:
        return and_(*(_contains(word) for word in words))
    key = max(indexed, key=lambda word: (any(c.isdigit() for c in word), len(word)))
    rest = list(words)
    rest.remove(key)
    return and_(
        text("MATCH (tickets.title, tickets.description) AGAINST (:word IN BOOLEAN MODE)").bindparams(word=f"+{key}*"),
        *(_contains(word) for word in rest),
    )


def _contains(word):
    return or_(Ticket.title.contains(word, autoescape=True), Ticket.description.contains(word, autoescape=True))


MAX_LANES = 40  # beyond this many departments, one pass over the organization's running tickets


def _lanes(user):
    """The ways a ticket is visible to `user` other than as its requester (assigned to them, copied
    on, or in each of their departments), or None when lanes do not help: whole-organization viewers,
    or more departments than MAX_LANES."""
    lanes = policy.ticket_view_lanes(user, own=False)  # the callers add the requester's own lane
    return lanes if lanes is not None and len(lanes) <= MAX_LANES else None


def _newest_in_each_lane(user, lanes, conditions):
    """The newest-first page's candidates on MariaDB, lane by lane: a department's (or
    requester's) index continues with the ticket id, so each lane reads backwards and stops
    after a page, where one OR over all of them made MariaDB merge and sort every ticket of the
    department (165 ms for a department of 50,000). (Without ix_tickets_department, MariaDB
    walked the primary key past every newer ticket of other departments: bench/queue_lanes.py.)
    SQLite already answers the OR by walking the ticket ids backwards (15 ms), and its planner
    reads a lane of a skewed column (most tickets unassigned) as a full scan, so it keeps the
    single query. The caller still applies every condition."""
    own = Ticket.requester_id == user.id
    members = []
    for lane in [*lanes, own]:
        newest = (
            select(Ticket.id)
            .where(Ticket.org_id == user.org_id, lane, *conditions)
            .order_by(Ticket.id.desc())
            .limit(PER_PAGE + 1)
        )
        if lane is own:
            # A requester of many open tickets (an integration's account) made MariaDB intersect
            # the requester and state indexes and sort every match: 48,603 rows and 63 ms for
            # 51, where (org_id, requester_id, id) read backwards stops at 51 rows (0.09 ms). The
            # full-text index stays allowed: a search's MATCH needs it.
            for dialect in ("mysql", "mariadb"):
                newest = newest.with_hint(Ticket, "USE INDEX (ix_tickets_requester, ft_tickets_text)", dialect)
        elif _is_department_lane(lane):
            # The primary key also gives id order, and MariaDB's estimate (matches spread evenly
            # over the ids) can prefer it; every other index it may choose stays inside the
            # department, whatever the rest of the table holds.
            for dialect in ("mysql", "mariadb"):
                newest = newest.with_hint(Ticket, "IGNORE INDEX (PRIMARY)", dialect)
        members.append(select(newest.subquery().c.id))
    return union(*members).subquery("lane_candidates")


def _is_department_lane(lane):
    """Whether a lane of policy.ticket_view_lanes is a department's (department_id = …)."""
    left = getattr(lane, "left", None)
    return left is not None and left.shares_lineage(Ticket.__table__.c.department_id)


def _soonest_in_each_lane(user, lanes, conditions):
    """The page's candidates, read lane by lane: for each (department, state), the
    (org_id, department_id, state, resolution_due_at) index is already in deadline order, so
    each lane stops after a page of matches instead of sorting every running ticket of the
    organization that is past a warning point (the page: 123 ms → 18 ms p95 at a million
    tickets). The caller still applies every condition; this only narrows where it looks."""
    own = Ticket.requester_id == user.id
    members = []
    if dialect_name() == "sqlite":
        # SQLite plans from average rows per requester: when one requester dominates, a lane
        # with conditions reads every at-risk ticket of the organization. All their own tickets
        # are candidates instead, read through the (org_id, requester_id) index alone.
        members.append(select(Ticket.id).where(Ticket.org_id == user.org_id, own))
    else:  # MariaDB counts the requester's rows in the index: a lane like the others
        lanes = [*lanes, own]
    for lane in lanes:
        for state in sla.TICKING_STATES:
            soonest = (
                select(Ticket.id)
                .where(Ticket.org_id == user.org_id, lane, Ticket.state == state, *conditions)
                .order_by(Ticket.resolution_due_at, Ticket.id)
                .limit(PER_PAGE + 1)
                .subquery()
            )
            members.append(select(soonest.c.id))
    return union(*members).subquery("lane_candidates")
