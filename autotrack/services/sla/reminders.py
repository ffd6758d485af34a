"""Reminders while overdue: one digest per person and period, never a flood.

An escalation rule with a reminder (daily or hourly) reminds the people its level notifies of
every ticket that reached the level and is still overdue. The sweep calls `send_due(now)`:
per organization and period it first claims the period (a row in sla_digest_runs, unique per
organization and period), then queues one email per person listing all their tickets, with a
dedupe key per person and period. Two sweeps at once, or a sweep run again, claim nothing new.
Reminders keep to business hours: the daily one goes once business opens (09:00 local where
the calendar is around the clock), the hourly one every hour of business hours.
"""

from collections import defaultdict
from datetime import time

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import EscalationRule, Reminder, SlaDigestRun, Ticket, User
from autotrack.services import outbox, urls
from autotrack.services.sla import clocks, notices, settings
from autotrack.services.sqlutil import insert_ignoring_duplicates
from autotrack.services.timefmt import duration_words

DAILY_AT_AROUND_THE_CLOCK = time(9, 0)  # a 24x7 calendar has no opening: remind at 09:00 local
LISTED = 50  # tickets listed in one digest; the rest are counted


def send_due(now, sweep_id):
    """Queue the digests whose period has come and was not done yet; the number queued."""
    rules = defaultdict(list)  # org_id -> [(level, notify, reminder)]
    for org_id, level, notify, reminder in db.session.execute(
        select(EscalationRule.org_id, EscalationRule.level, EscalationRule.notify, EscalationRule.reminder)
        .where(EscalationRule.is_active.is_(True), EscalationRule.reminder.is_not(None))
        .order_by(EscalationRule.org_id, EscalationRule.level)
    ):
        rules[org_id].append((level, notify, reminder))
    queued = 0
    for org_id, org_rules in rules.items():
        calendar = settings.org_settings(org_id).calendar
        for reminder in sorted({r for _, _, r in org_rules}):
            period = current_period(reminder, calendar, now)
            if period is None or not _claim(org_id, period, now, sweep_id):
                continue
            emails = _digests(org_id, [(lvl, target) for lvl, target, r in org_rules if r == reminder], period, now)
            db.session.execute(
                SlaDigestRun.__table__.update()
                .where(SlaDigestRun.org_id == org_id, SlaDigestRun.period == period)
                .values(emails=emails)
            )
            queued += emails
    return queued


def current_period(reminder, calendar, now):
    """The period `now` belongs to ("daily:2026-11-24", "hourly:2026-11-24T09"), or None when
    reminders do not go now (outside business hours, a holiday, before 09:00 on a 24x7 calendar)."""
    local = now.astimezone(calendar.tz)
    if calendar.always:
        if reminder == Reminder.DAILY and local.time() < DAILY_AT_AROUND_THE_CLOCK:
            return None
    elif next(calendar.intervals(now))[0] > now:
        return None  # not working time now
    if reminder == Reminder.HOURLY:
        return f"hourly:{local:%Y-%m-%dT%H}"
    return f"daily:{local:%Y-%m-%d}"


def _claim(org_id, period, now, sweep_id):
    """Take the organization's period for this sweep: True for exactly one sweep ever."""
    return (
        db.session.execute(
            insert_ignoring_duplicates(SlaDigestRun).values(org_id=org_id, period=period, ran_at=now, emails=0)
        ).rowcount
        == 1
    )


def _digests(org_id, levels, period, now):
    """One email per person: every overdue ticket that reached a level of `levels` ([(level,
    target)]) whose people they are. Returns the number queued."""
    lowest = min(level for level, _ in levels)
    rows = [
        dict(row)
        for row in db.session.execute(
            select(*clocks.SWEEP_COLUMNS)
            .where(Ticket.org_id == org_id, clocks.overdue_clause(now), Ticket.escalation_level >= lowest)
            .order_by(Ticket.id)
        ).mappings()
    ]
    if not rows:
        return 0
    context = notices.SweepContext.load(rows)
    tickets_of = defaultdict(dict)  # user id -> {ticket id: row}
    for row in rows:
        for level, target in levels:
            if row["escalation_level"] >= level:
                for user_id in context.targets(target, row):
                    tickets_of[user_id][row["id"]] = row
    users = {
        u.id: u
        for u in db.session.execute(
            select(User.id, User.email, User.name).where(User.id.in_(tickets_of), User.active.is_(True))
        )
    }
    emails = []
    for user_id, overdue in tickets_of.items():
        user = users.get(user_id)
        if user is None:
            continue
        listed = sorted(
            (_line(row, context, now) for row in overdue.values()),
            key=lambda line: line["overdue_minutes"],
            reverse=True,
        )
        dedupe = f"digest:{org_id}:{user_id}:{period}"
        emails.append(
            {
                "org_id": org_id,
                "recipient": user.email,
                "ticket_id": None,
                "subject": f"{len(listed)} overdue ticket{'s' if len(listed) != 1 else ''} still need you",
                "template": "sla_digest",
                "dedupe_key": dedupe,
                "context": {
                    "user_name": user.name,
                    "tickets": listed[:LISTED],
                    "total": len(listed),
                    "more": max(len(listed) - LISTED, 0),
                    "queue_link": urls.url("agent.home", view="open", sla="breached"),
                },
            }
        )
    return outbox.queue_many(emails, now=now)  # deliverable from the sweep's moment, like its other emails


def _line(row, context, now):
    """One ticket of a digest: which clock is overdue, by how long."""
    due, clock = min(
        (row[due_at], clock)
        for clock, due_at, _, _, breached_at, stopped_at in clocks.CLOCK_FIELDS
        if row[stopped_at] is None and row[due_at] is not None and row[due_at] <= now
    )
    reference = context.reference(row)
    return {
        "reference": reference,
        "title": row["title"],
        "clock": settings.CLOCK_LABELS[clock],
        "overdue": duration_words(now - due),
        "overdue_minutes": int((now - due).total_seconds() // 60),
        "priority": context.priorities.get(row["priority_id"], ""),
        "department": context.departments.get(row["department_id"], ""),
        "level": row["escalation_level"],
        "link": urls.url("agent.ticket", reference=reference),
    }
