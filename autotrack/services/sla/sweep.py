"""The SLA sweep: `sweep(now)` reads only the tickets whose moment has come (one indexed range),
records warnings, breaches and escalation levels as `SlaEvent` rows (unique per ticket and
moment), and has the notices written in the same transaction. It runs the settings recompute
(changes.py) first and the reminder digests (reminders.py) last; neither imports it.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from autotrack.extensions import db
from autotrack.models import (
    SlaEvent,
    Ticket,
)
from autotrack.services.sla import changes as sla_changes
from autotrack.services.sla import reminders
from autotrack.services.sla.clocks import (
    CLOCK_FIELDS,
    SWEEP_COLUMNS,
    _breach_start,
    next_check_at,
)
from autotrack.services.sla.notices import SweepContext, _fan_out
from autotrack.services.sla.settings import TICKING_STATES
from autotrack.services.sqlutil import bulk_insert, dialect_name

log = logging.getLogger(__name__)


# --- the sweep ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: dict = field(default_factory=lambda: defaultdict(int))  # level -> tickets
    emails_queued: int = 0
    notifications: int = 0
    tickets_examined: int = 0
    digests: int = 0  # reminder emails, one per person and period
    recomputed: int = 0  # tickets whose due times moved after a settings change

    def summary(self):
        levels = ", ".join(f"level {lvl}: {n}" for lvl, n in sorted(self.escalated.items())) or "none"
        return (
            f"examined {self.tickets_examined}, warned {self.warned}, breached {self.breached}, "
            f"escalated ({levels}), emails queued {self.emails_queued}, "
            f"notifications {self.notifications}, reminder digests {self.digests}, "
            f"recomputed after settings changes {self.recomputed}"
        )


def sweep(now, batch_size=5000):
    """Evaluate every SLA moment that has come by `now`; each fires exactly once.

    Idempotent (a second run at the same `now` finds nothing to do) and safe to run in
    parallel: on MariaDB each batch locks its tickets with SKIP LOCKED, and the unique keys of
    sla_events and outbox_emails refuse any second copy. Commits once per batch, so a crash
    loses at most one uncommitted batch, which the next sweep redoes. `now` comes from the
    caller (the job or the CLI passes the wall clock, a test its own moment): every email,
    notice and stamp of the sweep is dated `now`, never the machine's clock.
    """
    result = SweepResult()
    sweep_id = uuid.uuid4().hex
    result.recomputed = sla_changes.run_pending(now)  # settings changed: due times first
    while True:
        processed = _sweep_batch(now, sweep_id, batch_size, result)
        db.session.commit()
        if processed < batch_size:
            break
    result.digests = reminders.send_due(now, sweep_id)
    result.emails_queued += result.digests
    db.session.commit()
    return result


def _sweep_batch(now, sweep_id, batch_size, result):
    query = (
        select(*SWEEP_COLUMNS)
        .where(Ticket.sla_next_check_at <= now)
        .order_by(Ticket.sla_next_check_at)
        .limit(batch_size)
    )
    if dialect_name() != "sqlite":
        query = query.with_for_update(skip_locked=True, of=Ticket)
    rows = [dict(row) for row in db.session.execute(query).mappings()]
    if not rows:
        return 0
    result.tickets_examined += len(rows)
    context = SweepContext.load(rows)
    events, changes = [], []
    for row in rows:
        changes.append(_evaluate(row, now, context, events))

    if events:
        inserted = bulk_insert(
            SlaEvent,
            [
                {
                    "org_id": e.ticket["org_id"],
                    "ticket_id": e.ticket["id"],
                    "department_id": e.ticket["department_id"],
                    "key": e.key,
                    "kind": e.kind,
                    "clock": e.clock,
                    "level": e.level,
                    "due_at": e.due_at,
                    "fired_at": now,
                    "sweep_id": sweep_id,
                }
                for e in events
            ],
            ignore_duplicates=True,
        )
        if inserted != len(events):
            # Some moment was recorded by another sweep already: fan out only what this one wrote.
            ours = set(
                db.session.execute(
                    select(SlaEvent.ticket_id, SlaEvent.key).where(
                        SlaEvent.ticket_id.in_([r["id"] for r in rows]), SlaEvent.sweep_id == sweep_id
                    )
                ).all()
            )
            events = [e for e in events if (e.ticket["id"], e.key) in ours]
    _write_ticket_changes(changes)
    _fan_out(events, now, context, result)
    return len(rows)


@dataclass(slots=True)
class _Event:
    ticket: dict  # the sweep row
    kind: str  # warning | breach | escalation
    clock: str
    level: int
    due_at: object
    recipients: list  # user ids to tell
    reassign_to: int | None = None
    told: bool = True  # False: recorded only (a warning overtaken by its breach before any sweep ran)

    @property
    def clock_key(self):
        """The clock, and for the update clock its cycle: each cycle warns and breaches once."""
        if self.clock == "next_response":
            return f"next_response:{self.ticket['next_response_cycle']}"
        return self.clock

    @property
    def key(self):  # unique per ticket in sla_events
        return f"escalation:{self.level}" if self.kind == "escalation" else f"{self.kind}:{self.clock_key}"


def _evaluate(row, now, context, events):
    """Append the events due for one ticket (a sweep row, updated in place) to `events`;
    return the column changes they imply."""
    change = {}
    if row["state"] in TICKING_STATES:
        for clock, due_at, warn_at, warned_at, breached_at, stopped_at in CLOCK_FIELDS:
            due = row[due_at]
            if row[stopped_at] is not None or due is None:
                continue
            warn = row[warn_at]
            breaching = row[breached_at] is None and due <= now
            # Stamped with the moment each threshold was crossed, not when this sweep noticed it:
            # after downtime a breach still reads as the time the deadline passed.
            if warn is not None and warn <= now and row[warned_at] is None:
                row[warned_at] = change[warned_at] = warn
                if breaching:  # a late sweep records the warning but tells no one: the breach says more
                    events.append(_Event(row, "warning", clock, 0, due, [], told=False))
                else:
                    recipients = [row["assignee_id"]] if row["assignee_id"] else context.leads(row["department_id"])
                    events.append(_Event(row, "warning", clock, 0, due, recipients))
            if breaching:
                row[breached_at] = change[breached_at] = due
                events.append(_Event(row, "breach", clock, 0, due, [row["assignee_id"]]))
        start = _breach_start(row)
        if start is not None:
            for level, delay, target, reassign in context.rules.get(row["org_id"], ()):
                if level <= row["escalation_level"] or start + timedelta(minutes=delay) > now:
                    continue
                recipients = context.targets(target, row)
                row["escalation_level"] = change["escalation_level"] = level
                clock = next(
                    clock
                    for clock, due_at, _, _, breached_at, stopped_at in CLOCK_FIELDS
                    if row[stopped_at] is None and row[breached_at] is not None and row[due_at] == start
                )
                event = _Event(
                    row,
                    "escalation",
                    clock,
                    level,
                    start,
                    recipients,
                    reassign_to=recipients[0] if reassign and recipients else None,
                )
                if event.reassign_to and event.reassign_to != row["assignee_id"]:
                    # Only a real reassignment names assignee_id: SQLite rewrites the entries of
                    # every index on a column an UPDATE sets, changed or not.
                    change["assignee_id"] = event.reassign_to
                    change["updated_at"] = now  # a new assignee is a change people see, unlike a stamp
                events.append(event)
    change["sla_next_check_at"] = next_check_at(row, context.delays.get(row["org_id"], ()))
    change["b_id"] = row["id"]
    return change


def _write_ticket_changes(changes):
    """One UPDATE … WHERE id IN (…) per distinct set of new values (tickets that breached
    together usually share them), instead of one statement per ticket."""
    table = Ticket.__table__
    groups = defaultdict(list)
    for change in changes:
        ticket_id = change.pop("b_id")
        groups[tuple(sorted(change.items()))].append(ticket_id)
    for values, ids in groups.items():
        db.session.execute(
            update(table).where(table.c.id.in_(ids)).values(**dict(values), version=table.c.version + 1),
            execution_options={"synchronize_session": False},
        )
