from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from autotrack.extensions import db
from autotrack.manager import bp
from autotrack.models import ACTIVE_STATES, Department, Perm, Ticket, utcnow
from autotrack.services import sla
from autotrack.services.org import reports
from autotrack.services.pagination import keyset_page
from autotrack.services.sla import reports as sla_reports
from autotrack.services.tenancy import visible_tickets
from autotrack.services.tickets import queues
from autotrack.services.timefmt import duration_words


@bp.route("/")
def home():
    """Escalated or breached tickets first, then open work per department."""
    escalated = visible_tickets(current_user).where(sla.breached_clause()).options(*queues.ROW_OPTIONS)
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
        "manager/home.html",
        tickets=items,
        next_cursor=next_cursor,
        counts=counts,
        departments=departments,
        chosen=chosen,
        days=days,
        periods=reports.PERIODS,
        workload=reports.team_workload(current_user, department_ids, now=utcnow()),
        report=reports.sla_report(current_user, department_ids, days, now=utcnow()),
        duration=lambda seconds: "—" if seconds is None else duration_words(timedelta(seconds=seconds)),
    )


@bp.route("/reports/sla")
def sla_report():
    """SLA compliance per clock over a chosen period, by department, agent, category or priority,
    with its weekly trend; ?format=csv downloads it. Managers see their departments, those who
    see every ticket (org admins) the organization."""
    departments = reports.managed_departments(current_user)
    choice, errors = _report_choice(request.args, {str(d.id): d for d in departments})
    report = None
    if not errors:
        if choice["department"] is not None:
            department_ids = [choice["department"].id]
        elif current_user.has_permission(Perm.TICKET_VIEW_ALL):
            department_ids = None  # the whole organization, inactive departments too
        else:
            department_ids = [d.id for d in departments]
        report = sla_reports.build(
            current_user.org_id,
            department_ids,
            choice["since"],
            choice["until"],
            choice["by"],
            current_user.organization.timezone,
        )
        if request.args.get("format") == "csv":
            name = f"sla-{choice['by']}-{choice['since']:%Y%m%d}-{choice['until']:%Y%m%d}.csv"
            return Response(
                sla_reports.to_csv(report),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
    return render_template(
        "manager/sla_report.html",
        report=report,
        choice=choice,
        errors=errors,
        departments=departments,
        groupings=sla_reports.GROUPINGS,
        clocks=sla.CLOCKS,
        labels=sla.CLOCK_LABELS,
    ), 400 if errors and request.args.get("format") == "csv" else 200


def _report_choice(args, allowed_departments):
    """The period, grouping and department asked for (defaults: the last 30 days by department),
    and {field: message} for whatever cannot be used."""
    today = utcnow().astimezone(ZoneInfo(current_user.organization.timezone or "UTC")).date()
    errors, choice = {}, {"by": args.get("by") or "department", "department": None}
    for name, default in (("since", today - timedelta(days=29)), ("until", today)):
        raw = (args.get(name) or "").strip()
        try:
            choice[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            choice[name], errors[name] = default, "Write the date as YYYY-MM-DD."
    if "since" not in errors and "until" not in errors:
        if choice["until"] < choice["since"]:
            errors["until"] = "The end comes before the start."
        elif (choice["until"] - choice["since"]).days >= sla_reports.MAX_DAYS:
            errors["until"] = f"At most {sla_reports.MAX_DAYS} days at once."
    if choice["by"] not in sla_reports.GROUPINGS:
        errors["by"], choice["by"] = "Choose department, agent, category or priority.", "department"
    if args.get("department"):
        choice["department"] = allowed_departments.get(args["department"])
        if choice["department"] is None:
            errors["department"] = "Not one of your departments."
    return choice, errors
