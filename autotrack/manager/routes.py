from datetime import timedelta

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from autotrack.extensions import db
from autotrack.manager import bp
from autotrack.models import ACTIVE_STATES, Department, Ticket
from autotrack.services import queues, reports
from autotrack.services.pagination import keyset_page
from autotrack.services.timefmt import duration_words
from autotrack.services.tenancy import visible_tickets


@bp.route("/")
def home():
    """Escalated or breached tickets first, then open work per department."""
    escalated = visible_tickets(current_user).where(
        Ticket.state.in_(ACTIVE_STATES),
        or_(Ticket.escalation_level > 0, Ticket.first_response_breached_at.is_not(None),
            Ticket.resolution_breached_at.is_not(None),
            and_(Ticket.next_response_at.is_(None), Ticket.next_response_breached_at.is_not(None))),
    ).options(*queues.ROW_OPTIONS)
    items, next_cursor = keyset_page(escalated, Ticket.id, request.args.get("cursor"))
    visible = visible_tickets(current_user).where(Ticket.state.in_(ACTIVE_STATES)).subquery()
    counts = db.session.execute(
        select(Department.name, func.count(visible.c.id))
        .select_from(Department)
        .outerjoin(visible, visible.c.department_id == Department.id)
        .where(Department.org_id == current_user.org_id)
        .group_by(Department.id, Department.name)
        .order_by(Department.name)
    ).all()
    departments = reports.managed_departments(current_user)
    allowed = {str(d.id): d for d in departments}
    chosen = allowed.get(request.args.get("department", ""))  # anything else: all of them
    department_ids = [chosen.id] if chosen else list(d.id for d in departments)
    days = int(request.args["days"]) if request.args.get("days") in {str(d) for d in reports.PERIODS} else 30
    return render_template(
        "manager/home.html", tickets=items, next_cursor=next_cursor, counts=counts,
        departments=departments, chosen=chosen, days=days, periods=reports.PERIODS,
        workload=reports.team_workload(current_user, department_ids),
        report=reports.sla_report(current_user, department_ids, days),
        duration=lambda seconds: "—" if seconds is None else duration_words(timedelta(seconds=seconds)),
    )
