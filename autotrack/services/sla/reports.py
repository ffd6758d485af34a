"""SLA reports: compliance per clock over a chosen period, by department, agent, category or
priority, with a weekly trend; every figure is a GROUP BY in the database.

For each clock, a *met* is a clock that stopped in the period in time, a *breach* a breach the
sweep recorded in the period (so a ticket still waiting past its deadline counts from the moment
it breached, as on the dashboard):

- first response and resolution: the tickets' stop columns with no breach recorded, and the
  breach events;
- the update clock: each cycle's stop step (sla_steps) at or before its due time, and the breach
  events of its cycles.

Groups are the ticket's current department, assignee, category and priority.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from autotrack.extensions import db
from autotrack.models import Category, Department, Feedback, Priority, SlaEvent, SlaStep, Ticket, User
from autotrack.services.csvsafe import safe_cell
from autotrack.services.sla import settings

GROUPINGS = {"department": "Department", "agent": "Agent", "category": "Category", "priority": "Priority"}
_GROUP_COLUMN = {
    "department": Ticket.department_id,
    "agent": Ticket.assignee_id,
    "category": Ticket.category_id,
    "priority": Ticket.priority_id,
}
MAX_DAYS = 366


@dataclass
class Cell:
    met: int = 0
    breached: int = 0

    @property
    def total(self):
        return self.met + self.breached

    @property
    def percent(self):
        return round(100 * self.met / self.total, 1) if self.total else None


@dataclass
class Report:
    since: date
    until: date  # inclusive
    by: str
    rows: list = field(default_factory=list)  # [(group name, {clock: Cell})], worst first
    totals: dict = field(default_factory=dict)  # clock -> Cell
    trend: list = field(default_factory=list)  # [(week starting, {clock: Cell})]
    satisfaction: dict = field(default_factory=dict)  # group name -> (average rating, ratings)
    satisfaction_total: tuple = (None, 0)
    targets: list = field(default_factory=list)  # [(priority, {clock: "24 working hours (3 working days)"})]

    @property
    def trend_values(self):
        """clock -> the weekly compliance percentages (None for a week without data), for the chart."""
        return {
            clock: [cells[clock].percent if clock in cells else None for _, cells in self.trend]
            for clock in settings.CLOCKS
        }


def build(org_id, department_ids, since, until, by="department", tz_name="UTC"):
    """The report of `org_id`'s tickets in `department_ids` (None: every department) for the days
    since..until (inclusive) of the organization's timezone. The weekly trend buckets by UTC day."""
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    start, end = _instant(since, tz_name), _instant(until + timedelta(days=1), tz_name)
    cells = defaultdict(lambda: defaultdict(Cell))  # group id -> clock -> Cell
    weeks = defaultdict(lambda: defaultdict(Cell))  # week start -> clock -> Cell
    for clock, kind, group_id, day, n in _counts(org_id, department_ids, start, end, _GROUP_COLUMN[by]):
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        for target in (cells[group_id][clock], weeks[day - timedelta(days=day.weekday())][clock]):
            if kind == "met":
                target.met += n
            else:
                target.breached += n
    ratings = _ratings(org_id, department_ids, start, end, by)
    for group_id in ratings:
        cells[group_id]  # a group rated but with no clock in the period still gets its row
    names = _names(by, org_id, [g for g in cells if g is not None])
    report = Report(since, until, by)
    for group_id, by_clock in cells.items():
        name = names.get(group_id, "—") if group_id is not None else ("Unassigned" if by == "agent" else "None")
        report.rows.append((name, dict(by_clock)))
        if group_id in ratings:
            report.satisfaction[name] = ratings[group_id]
    count = sum(n for _, n in ratings.values())
    if count:
        report.satisfaction_total = (round(sum(avg * n for avg, n in ratings.values()) / count, 2), count)
    report.rows.sort(
        key=lambda row: (min((c.percent for c in row[1].values() if c.percent is not None), default=101), row[0])
    )
    for _, by_clock in report.rows:
        for clock, cell in by_clock.items():
            total = report.totals.setdefault(clock, Cell())
            total.met, total.breached = total.met + cell.met, total.breached + cell.breached
    first_week = since - timedelta(days=since.weekday())
    report.trend = [
        (week, dict(weeks.get(week, {})))
        for week in (first_week + timedelta(weeks=n) for n in range((until - first_week).days // 7 + 1))
    ]
    report.targets = targets(org_id)
    return report


def targets(org_id):
    """What each clock is measured against, per priority (heaviest first), in the words the
    console and the SLA timeline use: [(priority name, {clock: words, or None without a target})]."""
    rows = db.session.scalars(
        select(Priority).where(Priority.org_id == org_id).order_by(Priority.weight.desc(), Priority.name)
    ).all()
    return [
        (
            p.name,
            {
                clock: None
                if getattr(p, f"{clock}_minutes") is None
                else settings.target_words(org_id, getattr(p, f"{clock}_minutes"), p.calendar)
                for clock in settings.CLOCKS
            },
        )
        for p in rows
    ]


def _instant(day, tz_name):
    """Local midnight starting `day`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def _counts(org_id, department_ids, start, end, group_column):
    """(clock, "met" | "breach", group id, day, count) rows from four grouped queries."""
    scope = [Ticket.org_id == org_id]
    if department_ids is not None:
        scope.append(Ticket.department_id.in_(department_ids or [0]))
    out = []
    for clock, stopped_at, breached_at in (
        ("first_response", Ticket.first_response_at, Ticket.first_response_breached_at),
        ("resolution", Ticket.resolved_at, Ticket.resolution_breached_at),
    ):
        day = func.date(stopped_at)
        out += [
            (clock, "met", g, d, n)
            for g, d, n in db.session.execute(
                select(group_column, day, func.count())
                .where(*scope, stopped_at >= start, stopped_at < end, breached_at.is_(None))
                .group_by(group_column, day)
            ).all()
        ]
    day = func.date(SlaStep.at)
    out += [
        ("next_response", "met", g, d, n)
        for g, d, n in db.session.execute(
            select(group_column, day, func.count())
            .join(Ticket, Ticket.id == SlaStep.ticket_id)
            .where(
                *scope,
                SlaStep.org_id == org_id,
                SlaStep.clock == "next_response",
                SlaStep.kind == "stop",
                SlaStep.at >= start,
                SlaStep.at < end,
                SlaStep.due_at.is_not(None),
                SlaStep.at <= SlaStep.due_at,
            )
            .group_by(group_column, day)
        ).all()
    ]
    day = func.date(SlaEvent.fired_at)
    out += [
        (clock, "breach", g, d, n)
        for clock, g, d, n in db.session.execute(
            select(SlaEvent.clock, group_column, day, func.count())
            .join(Ticket, Ticket.id == SlaEvent.ticket_id)
            .where(
                *scope,
                SlaEvent.org_id == org_id,
                SlaEvent.kind == "breach",
                SlaEvent.fired_at >= start,
                SlaEvent.fired_at < end,
            )
            .group_by(SlaEvent.clock, group_column, day)
        ).all()
    ]
    return out


def _ratings(org_id, department_ids, start, end, by):
    """group id -> (average rating, number of ratings) of the period. Department and agent are
    the ones the ticket had when resolved (whose work was rated); category and priority today's."""
    group = {
        "department": Feedback.department_id,
        "agent": Feedback.agent_id,
        "category": Ticket.category_id,
        "priority": Ticket.priority_id,
    }[by]
    query = (
        select(group, func.avg(Feedback.rating), func.count())
        .join(Ticket, Ticket.id == Feedback.ticket_id)
        .where(Feedback.org_id == org_id, Feedback.rated_at >= start, Feedback.rated_at < end)
        .group_by(group)
    )
    if department_ids is not None:
        query = query.where(Feedback.department_id.in_(department_ids or [0]))
    return {g: (round(float(avg), 2), n) for g, avg, n in db.session.execute(query).all()}


def _names(by, org_id, ids):
    if not ids:
        return {}
    if by == "category":
        return {
            c.id: c.display_path()
            for c in db.session.scalars(select(Category).where(Category.org_id == org_id, Category.id.in_(ids)))
        }
    model = {"department": Department, "agent": User, "priority": Priority}[by]
    return dict(
        db.session.execute(select(model.id, model.name).where(and_(model.org_id == org_id, model.id.in_(ids)))).all()
    )


def to_csv(report):
    """The report as CSV, every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = [GROUPINGS[report.by]]
    for clock in settings.CLOCKS:
        label = settings.CLOCK_LABELS[clock]
        header += [f"{label} met", f"{label} breached", f"{label} compliance %"]
    writer.writerow(header + ["satisfaction (1-5)", "ratings"])
    for name, by_clock in [*report.rows, ("All", report.totals)]:
        line = [safe_cell(name)]
        for clock in settings.CLOCKS:
            cell = by_clock.get(clock, Cell())
            line += [cell.met, cell.breached, "" if cell.percent is None else cell.percent]
        average, ratings = report.satisfaction_total if name == "All" else report.satisfaction.get(name, (None, 0))
        writer.writerow(line + ["" if average is None else average, ratings])
    return out.getvalue()
