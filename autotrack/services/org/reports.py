"""What managers watch: their team's workload, and their departments' SLA over a period."""

from datetime import timedelta

from sqlalchemy import case, func, literal, select

from autotrack.extensions import db
from autotrack.models import ACTIVE_STATES, Department, Perm, Ticket, User
from autotrack.services import sla
from autotrack.services.org import dashboard

PERIODS = {7: "last 7 days", 30: "last 30 days", 90: "last 90 days"}


def managed_departments(user):
    """The departments a manager reports on: all of the organization's for those who see every
    ticket, else their own."""
    query = select(Department).where(Department.org_id == user.org_id, Department.is_active.is_(True))
    if not user.has_permission(Perm.TICKET_VIEW_ALL):
        query = query.where(Department.id.in_(user.staff_department_ids or [0]))
    return db.session.scalars(query.order_by(Department.name)).all()


def team_workload(user, department_ids, *, now):
    """Per assignee (None: unassigned) of the departments' open tickets: open, at risk and
    overdue counts, busiest first. Pending tickets count as open; their clocks stand still, so
    they are never at risk or overdue."""
    rows = db.session.execute(
        select(
            Ticket.assignee_id,
            func.count(),
            func.count(case((sla.at_risk_clause(now), literal(1)))),
            func.count(case((sla.overdue_clause(now), literal(1)))),
        )
        .where(
            Ticket.org_id == user.org_id,
            Ticket.department_id.in_(department_ids or [0]),
            Ticket.state.in_(ACTIVE_STATES),
        )
        .group_by(Ticket.assignee_id)
    ).all()
    names = dict(
        db.session.execute(select(User.id, User.name).where(User.id.in_([r[0] for r in rows if r[0]] or [0]))).all()
    )
    workload = [
        (names.get(assignee_id, "Unassigned") if assignee_id else "Unassigned", n, risk, late)
        for assignee_id, n, risk, late in rows
    ]
    return sorted(workload, key=lambda row: (-row[3], -row[1], row[0]))


def sla_report(user, department_ids, days, *, now):
    return dashboard.department_report(user.org_id, department_ids or [0], now - timedelta(days=days))
