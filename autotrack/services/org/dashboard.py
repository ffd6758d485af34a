"""The console's SLA dashboard: every figure is one aggregate query over one index range.

SLA compliance of a period counts clocks that stopped in time during it (first responses,
resolutions with no breach recorded) against breaches recorded during it, so a ticket still
waiting past its deadline counts as a miss from the moment it breached.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, case, func, literal, select

from autotrack.extensions import db
from autotrack.models import ACTIVE_STATES, Department, Priority, SlaEvent, Status, Ticket
from autotrack.services.sqlutil import seconds_between
from autotrack.services.tickets import feedback

PERIODS = (7, 30)  # days
MEDIAN_PERIOD = 30  # days; each median is a sort of the period's tickets, so only the longer one
# Backlog age buckets: (label, lower bound in days); a ticket falls in the last bucket it passes.
AGE_BUCKETS = (("under 1 day", 0), ("1–3 days", 1), ("3–7 days", 3), ("1–4 weeks", 7), ("over 4 weeks", 28))
CLOCKS = {
    "first_response": (Ticket.first_response_at, Ticket.first_response_breached_at),
    "resolution": (Ticket.resolved_at, Ticket.resolution_breached_at),
}


@dataclass
class Dashboard:
    open_total: int = 0
    by_priority: list = field(default_factory=list)  # [(name, count)] most urgent first
    by_status: list = field(default_factory=list)  # [(name, colour, count)] in workflow order
    aging: list = field(default_factory=list)  # [(bucket label, count)]
    # clock -> days -> {"met", "breached", "percent" (None without data), "median_seconds"}
    compliance: dict = field(default_factory=dict)
    # [(department name, breaches 7d, breaches 30d, escalations 7d, escalations 30d)]
    by_department: list = field(default_factory=list)
    # days -> (average rating 1-5 or None, number of ratings): requesters' feedback on resolutions
    satisfaction: dict = field(default_factory=dict)


def build(org_id, *, now):
    board = Dashboard()
    _backlog(board, org_id, now)
    breaches = _breaches_by_department(board, org_id, now)
    for clock in CLOCKS:
        board.compliance[clock] = {
            days: _compliance(
                org_id, clock, now - timedelta(days=days), breaches[clock, days], with_median=days == MEDIAN_PERIOD
            )
            for days in PERIODS
        }
    board.satisfaction = {days: feedback.satisfaction(org_id, now - timedelta(days=days)) for days in PERIODS}
    return board


def _backlog(board, org_id, now):
    """Open tickets by priority, status and age, from one scan of ix_tickets_backlog."""
    bucket = case(
        *[
            (Ticket.created_at <= now - timedelta(days=lower), index)
            for index, (_, lower) in reversed(list(enumerate(AGE_BUCKETS)))
            if lower
        ],
        else_=0,
    )
    rows = db.session.execute(
        select(Ticket.priority_id, Ticket.status_id, bucket.label("bucket"), func.count())
        .where(Ticket.org_id == org_id, Ticket.state.in_(ACTIVE_STATES))
        .group_by(Ticket.priority_id, Ticket.status_id, bucket)
    ).all()
    by_priority, by_status, by_bucket = {}, {}, [0] * len(AGE_BUCKETS)
    for priority_id, status_id, bucket_index, n in rows:
        by_priority[priority_id] = by_priority.get(priority_id, 0) + n
        by_status[status_id] = by_status.get(status_id, 0) + n
        by_bucket[bucket_index] += n
    board.open_total = sum(by_bucket)
    priorities = db.session.execute(
        select(Priority.id, Priority.name).where(Priority.org_id == org_id).order_by(Priority.weight.desc())
    ).all()
    board.by_priority = [(name, by_priority.get(pid, 0)) for pid, name in priorities]
    statuses = db.session.execute(
        select(Status.id, Status.name, Status.color)
        .where(Status.org_id == org_id, Status.category.in_(ACTIVE_STATES))
        .order_by(Status.position)
    ).all()
    board.by_status = [(name, color, by_status.get(sid, 0)) for sid, name, color in statuses]
    board.aging = [(label, by_bucket[i]) for i, (label, _) in enumerate(AGE_BUCKETS)]


def department_report(org_id, department_ids, since):
    """First-response and resolution compliance and medians of some departments since a moment
    (the manager's SLA report): clock -> the same figures as the dashboard's."""
    report = {}
    for clock in CLOCKS:
        breached = db.session.scalar(
            select(func.count())
            .select_from(SlaEvent)
            .where(
                SlaEvent.org_id == org_id,
                SlaEvent.fired_at >= since,
                SlaEvent.kind == "breach",
                SlaEvent.clock == clock,
                SlaEvent.department_id.in_(department_ids),
            )
        )
        report[clock] = _compliance(
            org_id, clock, since, breached, with_median=True, extra=Ticket.department_id.in_(department_ids)
        )
    return report


def _compliance(org_id, clock, since, breached, with_median, extra=None):
    stopped_at, breached_at = CLOCKS[clock]
    stopped = and_(Ticket.org_id == org_id, stopped_at >= since, *([extra] if extra is not None else []))
    total, met = db.session.execute(
        select(func.count(), func.count(case((breached_at.is_(None), literal(1))))).where(stopped)
    ).one()
    median = None
    if total and with_median:
        # The middle value without loading the others: sort in the database, read one row.
        median = db.session.scalar(
            select(seconds_between(Ticket.created_at, stopped_at).label("took"))
            .where(stopped)
            .order_by("took")
            .offset((total - 1) // 2)
            .limit(1)
        )
    counted = met + breached
    return {
        "met": met,
        "breached": breached,
        "stopped": total,
        "percent": round(100 * met / counted, 1) if counted else None,
        "median_seconds": None if median is None else max(0, round(median)),
    }


def _breaches_by_department(board, org_id, now):
    """Breaches and escalations of the last 7 and 30 days per department, in one query; returns
    the breach counts per (clock, days) for the compliance figures."""
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    rows = db.session.execute(
        select(
            SlaEvent.department_id,
            SlaEvent.kind,
            SlaEvent.clock,
            func.count(case((SlaEvent.fired_at >= week, literal(1)))),
            func.count(),
        )
        .where(SlaEvent.org_id == org_id, SlaEvent.fired_at >= month, SlaEvent.kind.in_(("breach", "escalation")))
        .group_by(SlaEvent.department_id, SlaEvent.kind, SlaEvent.clock)
    ).all()
    names = dict(db.session.execute(select(Department.id, Department.name).where(Department.org_id == org_id)).all())
    per_department = {}
    breaches = {(clock, days): 0 for clock in CLOCKS for days in PERIODS}
    for department_id, kind, clock, in_week, in_month in rows:
        counts = per_department.setdefault(department_id, [0, 0, 0, 0])  # breaches 7/30, escalations 7/30
        offset = 0 if kind == "breach" else 2
        counts[offset] += in_week
        counts[offset + 1] += in_month
        if kind == "breach" and clock in CLOCKS:
            breaches[clock, 7] += in_week
            breaches[clock, 30] += in_month
    board.by_department = sorted(
        ((names.get(department_id, "—"), *counts) for department_id, counts in per_department.items()),
        key=lambda row: (-row[2], row[0]),
    )
    return breaches
