"""SLA clocks and the sweep.

Each ticket has up to three clocks: first response, resolution and, where the priority sets a
target, the update clock (next response), which runs again each time the requester writes while
no cycle runs and stops at the next public staff reply. Their deadlines and warning points
are computed here (on the priority's calendar) and stored on the ticket, together with
`sla_next_check_at`, the next moment anything can happen to it. `sweep(now)` reads only the
tickets whose moment has come (one indexed range), records warnings, breaches and escalation
levels as `SlaEvent` rows (unique per ticket and moment), and writes the notifications and
outbox emails they cause in the same transaction.
"""
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select, update

from autotrack.extensions import db
from autotrack.models import (
    AuditEvent,
    Department,
    DepartmentMember,
    EscalationRule,
    Lifecycle,
    MemberRole,
    Notification,
    Organization,
    OutboxEmail,
    Perm,
    Priority,
    Role,
    RolePermission,
    SlaCalendar,
    SlaEvent,
    SlaStep,
    Ticket,
    User,
)
from autotrack.services import audit, outbox, signals
from autotrack.services.calendar import ALWAYS, ZERO, business_calendar
from autotrack.services.sqlutil import bulk_insert, dialect_name
from autotrack.services.timefmt import duration_words, hours_words
from autotrack.services.timefmt import target_words as _target_words

log = logging.getLogger(__name__)

CLOCKS = ("first_response", "resolution", "next_response")
TICKING_STATES = (Lifecycle.NEW, Lifecycle.OPEN)  # pending is paused; resolved and closed are stopped
CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution", "next_response": "next response"}
_STOPPED_AT = {"first_response": "first_response_at", "resolution": "resolved_at", "next_response": "next_response_at"}
_TARGET = {"first_response": "first_response_minutes", "resolution": "resolution_minutes",
           "next_response": "next_response_minutes"}


@dataclass(frozen=True)
class OrgSlaSettings:
    """What an organization's SLA clocks are computed with."""

    calendar: object  # WorkCalendar: the business calendar
    warning_percent: int
    delays: tuple  # ((level, delay minutes), …) of the active escalation rules, in level order

    def calendar_for(self, priority):
        return ALWAYS if priority.calendar == SlaCalendar.ALWAYS else self.calendar


_SETTINGS_CACHE = {}  # (org_id, settings_token) -> OrgSlaSettings
_SETTINGS_CACHE_MAX = 1024


def org_settings(org_id):
    """The organization's SLA settings, from the process's cache while its settings token
    is unchanged (one query instead of six; models/settings_events.py renews the token in
    the transaction of any change, so no cached value outlives what it was built from)."""
    token = db.session.scalar(select(Organization.settings_token).where(Organization.id == org_id))
    key = (org_id, token)
    settings = _SETTINGS_CACHE.get(key)
    if settings is None:
        percent = db.session.scalar(select(Organization.sla_warning_percent).where(Organization.id == org_id))
        settings = OrgSlaSettings(business_calendar(org_id), percent,
                                  tuple(_escalation_delays([org_id]).get(org_id, ())))
        if len(_SETTINGS_CACHE) >= _SETTINGS_CACHE_MAX:
            _SETTINGS_CACHE.clear()
        _SETTINGS_CACHE[key] = settings
    return settings


def calendar_for(priority):
    return org_settings(priority.org_id).calendar_for(priority)


def target_words(org_id, minutes, calendar_kind):
    """A target of `minutes` on a priority of `calendar_kind` (SlaCalendar) as people read it:
    "24 working hours (3 working days)" on the organization's business hours, "24 hours" around
    the clock. The console's priority list, the SLA timeline and the SLA report all say it so."""
    calendar = ALWAYS if calendar_kind == SlaCalendar.ALWAYS else org_settings(org_id).calendar
    return _target_words(minutes, always=calendar.always, working_day_minutes=calendar.day_minutes)


def _target(priority, clock):
    """The clock's target in minutes; None for an update clock the priority does not set."""
    return getattr(priority, _TARGET[clock])


# (clock, what) -> column name, built once: the sweep asks this hundreds of thousands of times.
_COLUMN = {(clock, what): f"{clock}_{what}" for clock in CLOCKS
           for what in ("due_at", "warn_at", "warned_at", "breached_at")}


def _get(ticket, clock, what):
    return getattr(ticket, _COLUMN[clock, what])


def _set(ticket, clock, what, value):
    setattr(ticket, _COLUMN[clock, what], value)


def _is_stopped(ticket, clock):
    return getattr(ticket, _STOPPED_AT[clock]) is not None


# --- keeping the clocks (called by the ticket service) -----------------------------------------

# Every change to a clock is also recorded as an SlaStep with its arithmetic (the SLA timeline's
# source): start, pause, resume, retarget (a new priority) and stop.

def _step(ticket, clock, kind, at, *, base=None, working=None, calendar=None, detail=None, new_target=True):
    """Record a step; `new_target=False` for a step that leaves the clock on the target it had."""
    ticket.sla_steps.add(SlaStep(
        org_id=ticket.org_id, clock=clock, kind=kind, at=at,
        cycle=ticket.next_response_cycle if clock == "next_response" else 0,
        base_at=base, working_us=working // _MICROSECOND if working is not None else None, calendar=calendar,
        target_minutes=_target(ticket.priority, clock) if new_target else None,
        due_at=_get(ticket, clock, "due_at"), warn_at=_get(ticket, clock, "warn_at"),
        detail=detail[:255] if detail else None))


_MICROSECOND = timedelta(microseconds=1)


def _running(ticket):
    """The clocks that count now (not stopped, something due)."""
    return [clock for clock in CLOCKS if not _is_stopped(ticket, clock) and _get(ticket, clock, "due_at") is not None]


def start_clocks(ticket, now):
    """Set the deadlines and warning points of a new ticket (raising it is the requester's first
    message, so the update clock's first cycle starts too)."""
    settings = org_settings(ticket.org_id)
    for clock in ("first_response", "resolution"):
        minutes = _target(ticket.priority, clock)
        _arm(ticket, clock, now, minutes, settings, detail=f"{ticket.priority.name}: {_words(ticket.priority, minutes)}")
    _start_cycle(ticket, now, settings)
    refresh_next_check(ticket, settings)


def _arm(ticket, clock, start, minutes, settings, spent=0, *, kind="start", at=None, detail=None):
    """Due time and warning point of `clock`: `minutes` of its calendar's working time from
    `start`, less the `spent` minutes already counted. When more than `minutes` were spent,
    the due time is the past moment the target was used up (the sweep breaches it at that time)."""
    calendar = settings.calendar_for(ticket.priority)
    working = timedelta(minutes=minutes - spent)
    _set(ticket, clock, "due_at", calendar.shift(start, working))
    _set(ticket, clock, "warn_at", calendar.shift(start, timedelta(minutes=minutes * settings.warning_percent / 100 - spent)))
    _step(ticket, clock, kind, at or start, base=start, working=working, calendar=ticket.priority.calendar,
          detail=detail)


def _words(priority, minutes):
    return target_words(priority.org_id, minutes, priority.calendar)


def _start_cycle(ticket, now, settings=None):
    """A new cycle of the update clock: the requester waits from `now`. Without a target on the
    priority the wait is still recorded (a later priority with one counts from it)."""
    ticket.next_response_cycle = (ticket.next_response_cycle or 0) + 1
    ticket.next_response_started_at = now
    ticket.next_response_at = ticket.next_response_warned_at = ticket.next_response_breached_at = None
    ticket.next_response_due_at = ticket.next_response_warn_at = None
    minutes = ticket.priority.next_response_minutes
    if minutes is not None:
        _arm(ticket, "next_response", now, minutes, settings or org_settings(ticket.org_id),
             detail=f"{ticket.priority.name}: {_words(ticket.priority, minutes)}")
    else:
        _step(ticket, "next_response", "start", now, detail=f"{ticket.priority.name} sets no update target")


def requester_wrote(ticket, now):
    """The requester wrote (a public reply by portal, API or mail): a new cycle of the update
    clock starts, unless one runs already (they still wait for the answer to an earlier message).
    Called once the ticket's state is settled (a pending ticket resumed, a resolved one reopened)."""
    if ticket.next_response_started_at is not None and ticket.next_response_at is None:
        return
    _start_cycle(ticket, now)
    refresh_next_check(ticket)


def staff_replied(ticket, now):
    """A public reply of staff answers the requester: the first response (once) and the running
    update cycle stop."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        _step(ticket, "first_response", "stop", now, detail="first public reply")
    stop_update_cycle(ticket, now, "answered by a public reply")
    refresh_next_check(ticket)


def stop_update_cycle(ticket, now, why):
    """The running cycle of the update clock ends (answered, or the ticket resolved)."""
    if ticket.next_response_started_at is not None and ticket.next_response_at is None:
        ticket.next_response_at = now
        _step(ticket, "next_response", "stop", now, detail=why)


def resolve_clocks(ticket, now):
    """The ticket is resolved: the resolution clock stops, and the resolution answers what the
    requester last wrote."""
    ticket.resolved_at = now
    _step(ticket, "resolution", "stop", now, detail="resolved")
    stop_update_cycle(ticket, now, "the ticket was resolved")


def pause_clocks(ticket, now):
    """Pending: every running clock stands still until the ticket resumes."""
    ticket.paused_at = now
    for clock in _running(ticket):
        _step(ticket, clock, "pause", now, detail="pending: the clock stands still")


def change_priority(ticket, old_priority, now):
    """Retarget the clocks on the new priority.

    A clock that has breached (the sweep recorded it, or its deadline passed: at `now`, or at
    the pause of a pending ticket) stays breached, with its due time, its breach stamp and the
    target it breached against: a new priority does not rewrite what happened. A clock not yet
    breached keeps the working time already spent and counts the rest on the new target; when
    the new target was already used up, its due time is the past moment that happened, and
    the sweep records the breach stamped with that time."""
    reference = ticket.paused_at or now  # while paused, time stands still at the pause
    settings = org_settings(ticket.org_id)
    old_calendar, new_calendar = settings.calendar_for(old_priority), settings.calendar_for(ticket.priority)
    change = f"{old_priority.name} → {ticket.priority.name}"
    for clock in CLOCKS:
        if _is_stopped(ticket, clock) or (clock == "next_response" and ticket.next_response_started_at is None):
            continue
        due, target = _get(ticket, clock, "due_at"), _target(ticket.priority, clock)
        if due is not None and (_get(ticket, clock, "breached_at") is not None or due <= reference):
            _step(ticket, clock, "retarget", now, new_target=False,
                  detail=f"{change}: already breached, due {_local(due, settings.calendar.tz.key)}; "
                         f"the due time and the breach stay")
            continue
        if target is None:  # the new priority sets no update target: nothing is due
            _set(ticket, clock, "due_at", None)
            _set(ticket, clock, "warn_at", None)
            _step(ticket, clock, "retarget", now, detail=f"{change}: no update target")
            continue
        if due is not None:
            spent = _target(old_priority, clock) - old_calendar.between(reference, due).total_seconds() / 60
        elif clock == "next_response":
            # The old priority set no update target: count the wait from the cycle's start
            # (a pause within this cycle counts too; the ticket kept no record of it).
            spent = new_calendar.between(ticket.next_response_started_at, reference).total_seconds() / 60
        else:
            continue
        _arm(ticket, clock, reference, target, settings, spent, kind="retarget", at=now,
             detail=f"{change}: {hours_words(timedelta(minutes=max(spent, 0)))} counted of "
                    f"{_words(ticket.priority, target)}")
    refresh_next_check(ticket, settings)


_SAME = timedelta(seconds=1)  # closer than this is the same moment (float minutes round to microseconds)


def recompute(ticket, before, now, why):
    """The organization's SLA settings changed (services/sla_changes.py): recompute the running
    clocks whose deadline is still ahead, the working time counted so far measured on the
    `before` settings and the time left on the current ones. A deadline that has passed (at
    `now`, or at the pause of a pending ticket) stays where it was and a recorded breach stays
    a breach: a change of settings rewrites the future, not what happened. Warnings already
    recorded stay (their event keys never fire twice). A recomputed deadline that lands in the
    past breaches at that time (the sweep stamps it so). The ticket's "Updated" time is not
    touched: nobody changed the ticket. True if a time moved (an SLA step and an audit event
    say how)."""
    settings = org_settings(ticket.org_id)
    reference = ticket.paused_at or now  # a pending ticket stays frozen at its pause
    old_calendar, new_calendar = before.calendar_for(ticket.priority), settings.calendar_for(ticket.priority)
    moved = []
    for clock in _running(ticket):
        due, warn = _get(ticket, clock, "due_at"), _get(ticket, clock, "warn_at")
        if _get(ticket, clock, "breached_at") is not None or due <= reference:
            continue  # passed: its due time and breach are history
        old_target, new_target = before.target(ticket.priority, clock), _target(ticket.priority, clock)
        if new_target is None:
            _set(ticket, clock, "due_at", None)
            _set(ticket, clock, "warn_at", None)
            _step(ticket, clock, "recompute", now, detail=f"{why}: no target any more")
            moved.append(f"{CLOCK_LABELS[clock]} no longer due")
            continue
        if old_target is None:  # no target before the change, yet a due time: nothing to measure from
            continue
        counted = timedelta(minutes=old_target) - old_calendar.between(reference, due)
        left = timedelta(minutes=new_target) - counted  # negative: overdue by that much already
        new_due = new_calendar.shift(reference, left)
        new_warn = new_calendar.shift(reference, timedelta(minutes=new_target * settings.warning_percent / 100) - counted)
        if abs(new_due - due) < _SAME and (warn is None or abs(new_warn - warn) < _SAME):
            continue
        _set(ticket, clock, "due_at", new_due)
        _set(ticket, clock, "warn_at", new_warn)
        _step(ticket, clock, "recompute", now, base=reference, working=left,
              calendar=ticket.priority.calendar, detail=f"{why}: {hours_words(max(counted, ZERO))} counted")
        moved.append(f"{CLOCK_LABELS[clock]} due {_local(due, settings.calendar.tz.key)} → "
                     f"{_local(new_due, settings.calendar.tz.key)}")
    refresh_next_check(ticket, settings)
    if moved:
        audit.record(ticket.org_id, "sla_recompute", actor=None, ticket=ticket, detail=f"{why}: {'; '.join(moved)}"[:255],
                     now=now)
    return bool(moved)


def resume_clocks(ticket, since, now, why="resumed"):
    """The clocks stood still from `since` to `now` (pending, or resolved then reopened):
    move every unmet deadline out by the working time that passed. The caller then
    refreshes the next check, once the ticket's new state is set."""
    calendar = calendar_for(ticket.priority)
    stood = calendar.between(since, now)
    for clock in _running(ticket):
        due = _get(ticket, clock, "due_at")
        _set(ticket, clock, "due_at", calendar.add(due, stood))
        warn = _get(ticket, clock, "warn_at")
        if warn is not None:
            _set(ticket, clock, "warn_at", calendar.add(warn, stood))
        _step(ticket, clock, "resume", now, base=due, working=stood, calendar=ticket.priority.calendar,
              detail=f"{why} after {hours_words(stood)} of working time")


def refresh_next_check(ticket, settings=None):
    """Store when the sweep next needs to look at this ticket (None: nothing can happen)."""
    delays = (settings or org_settings(ticket.org_id)).delays
    ticket.sla_next_check_at = next_check_at({name: getattr(ticket, name) for name in _VIEW_FIELDS}, delays)


# The SLA columns the sweep reads, as a plain dict per ticket ("view"): the sweep handles tens of
# thousands of them, and dict lookups are the cheapest Python has.
_VIEW_FIELDS = (
    "state", "escalation_level", *_STOPPED_AT.values(),
    *(_COLUMN[clock, what] for clock in CLOCKS for what in ("due_at", "warn_at", "warned_at", "breached_at")),
)
# Per clock: (due, warn, warned, breached, stopped) column names.
CLOCK_FIELDS = tuple(
    (clock, _COLUMN[clock, "due_at"], _COLUMN[clock, "warn_at"], _COLUMN[clock, "warned_at"],
     _COLUMN[clock, "breached_at"], _STOPPED_AT[clock])
    for clock in CLOCKS
)


def _breach_start(view):
    """When the running clocks' earliest recorded breach began (escalations count from it)."""
    dues = [view[due] for _, due, _, _, breached, stopped in CLOCK_FIELDS
            if view[stopped] is None and view[breached] is not None]
    return min(dues) if dues else None


def next_check_at(view, delays):
    """The earliest pending warning, deadline or escalation level while a clock ticks."""
    if view["state"] not in TICKING_STATES:
        return None
    moments = []
    for _, due, warn, warned, breached, stopped in CLOCK_FIELDS:
        if view[stopped] is not None or view[due] is None:
            continue
        if view[warn] is not None and view[warned] is None:
            moments.append(view[warn])
        if view[breached] is None:
            moments.append(view[due])
    start = _breach_start(view)
    if start is not None:
        upcoming = [delay for level, delay in delays if level > view["escalation_level"]]
        if upcoming:
            moments.append(start + timedelta(minutes=upcoming[0]))
    return min(moments) if moments else None


def _escalation_delays(org_ids):
    """org_id -> [(level, delay minutes)] of the active rules, in level order."""
    rows = db.session.execute(
        select(EscalationRule.org_id, EscalationRule.level, EscalationRule.delay_minutes)
        .where(EscalationRule.org_id.in_(org_ids), EscalationRule.is_active.is_(True))
        .order_by(EscalationRule.org_id, EscalationRule.level)
    ).all()
    delays = defaultdict(list)
    for org_id, level, delay in rows:
        delays[org_id].append((level, delay))
    return delays


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
        return (f"examined {self.tickets_examined}, warned {self.warned}, breached {self.breached}, "
                f"escalated ({levels}), emails queued {self.emails_queued}, "
                f"notifications {self.notifications}, reminder digests {self.digests}, "
                f"recomputed after settings changes {self.recomputed}")


SWEEP_COLUMNS = (
    Ticket.id, Ticket.org_id, Ticket.number, Ticket.title, Ticket.state, Ticket.department_id,
    Ticket.assignee_id, Ticket.priority_id, Ticket.escalation_level, Ticket.next_response_cycle,
    *(getattr(Ticket, name) for name in _VIEW_FIELDS[2:]),
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
    from autotrack.services import reminders, sla_changes  # both build on this module

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
        inserted = bulk_insert(SlaEvent, [
            {"org_id": e.ticket["org_id"], "ticket_id": e.ticket["id"], "department_id": e.ticket["department_id"],
             "key": e.key, "kind": e.kind,
             "clock": e.clock, "level": e.level, "due_at": e.due_at, "fired_at": now, "sweep_id": sweep_id}
            for e in events
        ], ignore_duplicates=True)
        if inserted != len(events):
            # Some moment was recorded by another sweep already: fan out only what this one wrote.
            ours = set(db.session.execute(
                select(SlaEvent.ticket_id, SlaEvent.key).where(SlaEvent.ticket_id.in_([r["id"] for r in rows]),
                                                               SlaEvent.sweep_id == sweep_id)
            ).all())
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
                clock = next(clock for clock, due_at, _, _, breached_at, stopped_at in CLOCK_FIELDS
                             if row[stopped_at] is None and row[breached_at] is not None and row[due_at] == start)
                event = _Event(row, "escalation", clock, level, start, recipients,
                               reassign_to=recipients[0] if reassign and recipients else None)
                if event.reassign_to and event.reassign_to != row["assignee_id"]:
                    # Only a real reassignment names assignee_id: SQLite rewrites the entries of
                    # every index on a column an UPDATE sets, changed or not.
                    change["assignee_id"] = event.reassign_to
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


class SweepContext:
    """Everything a batch needs about organizations, people and rules, loaded set-wise."""

    @classmethod
    def load(cls, rows):
        self = cls()
        org_ids = {r["org_id"] for r in rows}
        department_ids = {r["department_id"] for r in rows}
        self.rules = defaultdict(list)
        self.quiet = set()  # (org_id, level) whose emails wait for working hours; level 0: warnings
        for rule in db.session.execute(
            select(EscalationRule.org_id, EscalationRule.level, EscalationRule.delay_minutes,
                   EscalationRule.notify, EscalationRule.reassign, EscalationRule.working_hours_only)
            .where(EscalationRule.org_id.in_(org_ids), EscalationRule.is_active.is_(True))
            .order_by(EscalationRule.level)
        ):
            self.rules[rule.org_id].append((rule.level, rule.delay_minutes, rule.notify, rule.reassign))
            if rule.working_hours_only:
                self.quiet.add((rule.org_id, rule.level))
                if rule.level == 1:
                    self.quiet.add((rule.org_id, 0))  # the warnings go with the first level
        self.calendars = {org_id: org_settings(org_id).calendar for org_id in {org for org, _ in self.quiet}}
        self._next_working = {}
        self.delays = {org_id: [(level, delay) for level, delay, _, _ in rules] for org_id, rules in self.rules.items()}
        self.members = defaultdict(lambda: {"lead": [], "manager": []})
        for department_id, user_id, role, is_lead in db.session.execute(
            select(DepartmentMember.department_id, DepartmentMember.user_id, DepartmentMember.role,
                   DepartmentMember.is_lead)
            .join(User, User.id == DepartmentMember.user_id)
            .where(DepartmentMember.department_id.in_(department_ids), User.active.is_(True))
            .order_by(DepartmentMember.user_id)
        ):
            if role == MemberRole.MANAGER:
                self.members[department_id]["manager"].append(user_id)
            elif is_lead:
                self.members[department_id]["lead"].append(user_id)
        self.admins = defaultdict(list)
        for org_id, user_id in db.session.execute(
            select(User.org_id, User.id)
            .join(Role, Role.id == User.role_id)
            .join(RolePermission, RolePermission.role_id == Role.id)
            .where(User.org_id.in_(org_ids), User.active.is_(True),
                   RolePermission.permission == Perm.SETTINGS_MANAGE)
            .order_by(User.id)
        ):
            self.admins[org_id].append(user_id)
        self.orgs = {o.id: o for o in db.session.execute(
            select(Organization.id, Organization.ticket_prefix, Organization.timezone)
            .where(Organization.id.in_(org_ids)))}
        self.departments = dict(db.session.execute(
            select(Department.id, Department.name).where(Department.id.in_(department_ids))).all())
        self.priorities = dict(db.session.execute(
            select(Priority.id, Priority.name).where(Priority.id.in_({r["priority_id"] for r in rows}))).all())
        return self

    def leads(self, department_id):
        return list(self.members[department_id]["lead"])

    def targets(self, target, row):
        """Who an escalation level notifies; an empty level falls through to the next one up."""
        order = ["lead", "manager", "org_admin"]
        for name in order[order.index(target):]:
            users = self.admins[row["org_id"]] if name == "org_admin" else self.members[row["department_id"]][name]
            if users:
                return list(users)
        return []

    def reference(self, row):
        return f"{self.orgs[row['org_id']].ticket_prefix}-{row['number']}"

    def send_at(self, org_id, level, now, queued_at):
        """When an email of this level may go: at once, or, for a rule that keeps to working
        hours and a moment outside them, at the start of the next working period."""
        if (org_id, level) not in self.quiet or self.calendars[org_id].always:
            return queued_at
        if org_id not in self._next_working:
            self._next_working[org_id] = next(self.calendars[org_id].intervals(now))[0]
        opens = self._next_working[org_id]
        return opens if opens > now else queued_at


def _fan_out(events, now, context, result):
    """Audit events, in-app notifications and outbox emails for the events this sweep fired."""
    if not events:
        return
    user_ids = {uid for e in events for uid in e.recipients if uid} | {e.reassign_to for e in events if e.reassign_to}
    users = {u.id: u for u in db.session.execute(
        select(User.id, User.email, User.name).where(User.id.in_(user_ids)))} if user_ids else {}
    audits, notifications, emails = [], [], []
    base_url = current_app.config["AUTOTRACK_BASE_URL"].rstrip("/")
    queued_at = now  # deliverable from the sweep's moment (a sweep at a simulated `now` queues for that `now`)
    words = {}  # due -> time left before, or overdue after, the deadline (events share few dues)
    # The messages name the clock or the level: the SLA timeline tells from them which moment
    # of a sweep each notice was about (services/sla_timeline.py, _about).
    for event in events:
        if not event.told:
            continue
        row, kind, clock, level, due = event.ticket, event.kind, event.clock, event.level, event.due_at
        reference = context.reference(row)
        when = words.get(due) or words.setdefault(due, duration_words(due - now))
        if kind == "warning":
            result.warned += 1
            message = f"{reference}: {CLOCK_LABELS[clock]} due in {when}"
        elif kind == "breach":
            result.breached += 1
            message = f"{reference}: {CLOCK_LABELS[clock]} SLA breached"
        else:
            # Warnings and breaches are recorded in sla_events; an escalation changes the ticket,
            # so it is also an audit event.
            result.escalated[level] += 1
            message = f"{reference} escalated to you (level {level}): overdue by {when}"
            audits.append({"org_id": row["org_id"], "ticket_id": row["id"], "actor_id": None, "action": "escalation",
                           "from_value": str(level - 1), "to_value": str(level),
                           "detail": f"{CLOCK_LABELS[clock]} overdue by {when}", "created_at": now})
        if event.reassign_to and event.reassign_to != row["assignee_id"]:
            audits.append({"org_id": row["org_id"], "ticket_id": row["id"], "actor_id": None, "action": "assign",
                           "from_value": None, "to_value": users[event.reassign_to].name,
                           "detail": f"escalation level {level}", "created_at": now})
        notification_kind = "escalation" if kind == "escalation" else f"sla_{kind}"
        for user_id in dict.fromkeys(u for u in event.recipients if u):
            notifications.append({"org_id": row["org_id"], "user_id": user_id, "ticket_id": row["id"],
                                  "kind": notification_kind, "message": message[:500], "created_at": now,
                                  "read_at": None})
            if kind == "breach":
                continue  # the breach itself is in-app; the escalation levels send the emails
            send_at = context.send_at(row["org_id"], level, now, queued_at)
            emails.append(_email_row(event, users[user_id], reference, when, queued_at, send_at, context, base_url))
    bulk_insert(AuditEvent, audits)
    result.notifications += bulk_insert(Notification, notifications)
    signals.notifications_written.send(None, user_ids=[n["user_id"] for n in notifications])
    queued = bulk_insert(OutboxEmail, emails, ignore_duplicates=True)
    result.emails_queued += len(emails) if queued < 0 else queued


def _email_row(event, user, reference, when, queued_at, send_at, context, base_url):
    row, kind, level = event.ticket, event.kind, event.level
    values = {
        "kind": kind, "level": level, "reference": reference, "title": row["title"], "user_name": user.name,
        "clock": CLOCK_LABELS[event.clock], "priority": context.priorities.get(row["priority_id"], ""),
        "department": context.departments.get(row["department_id"], ""),
        "due_local": _local(event.due_at, context.orgs[row["org_id"]].timezone),
        "when": when, "link": f"{base_url}/agent/tickets/{reference}", "reassigned": event.reassign_to == user.id,
    }
    if kind == "warning":
        subject = f"[{reference}] {values['clock'].capitalize()} due in {when}: {row['title']}"
        dedupe = f"warning:{row['id']}:{event.clock_key}:{user.id}"
    else:
        subject = f"[{reference}] Escalated to you (level {level}), overdue by {when}: {row['title']}"
        dedupe = f"escalation:{row['id']}:{level}:{user.id}"
    return {
        "org_id": row["org_id"], "recipient": user.email, "subject": subject[:255],
        "body_text": None, "body_html": None, "template": "sla", "context": json.dumps(values),
        "dedupe_key": dedupe, "status": "pending", "attempts": 0, "next_attempt_at": send_at,
        "created_at": queued_at, "ticket_id": row["id"], "message_id": outbox.message_id(dedupe),
    }


@lru_cache(maxsize=4096)
def _local(moment, tz_name):
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%a %d %b %Y %H:%M %Z")


# --- what people see ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SlaStatus:
    """The SLA state of a ticket as a badge shows it."""

    state: str  # on_track | at_risk | breached | paused | met | missed
    clock: str | None  # the clock the badge is about
    due_at: object = None
    words: str = ""  # "2 hours 5 minutes left", "overdue by 3 days 1 hour", …

    @property
    def label(self):
        return {"on_track": "On track", "at_risk": "At risk", "breached": "Breached", "paused": "Paused",
                "met": "SLA met", "missed": "SLA missed"}[self.state]


def status_of(ticket, now):
    """The running clock's state: breached once past its deadline, at risk once past its
    warning point, else on track; a paused ticket shows its clocks stand still; a finished
    ticket says whether both clocks were met."""
    if ticket.state == Lifecycle.PENDING:
        return SlaStatus("paused", None, words="clocks stopped while waiting")
    if ticket.state not in TICKING_STATES:
        missed = any(_get(ticket, clock, "breached_at") for clock in CLOCKS)
        return SlaStatus("missed" if missed else "met", None)
    running = [(_get(ticket, clock, "due_at"), clock) for clock in CLOCKS
               if not _is_stopped(ticket, clock) and _get(ticket, clock, "due_at") is not None]
    breached = [(due, clock) for due, clock in running if due <= now or _get(ticket, clock, "breached_at")]
    if breached:
        due, clock = min(breached)
        return SlaStatus("breached", clock, due, f"{CLOCK_LABELS[clock]} overdue by {duration_words(now - due)}")
    at_risk = [(due, clock) for due, clock in running if (_get(ticket, clock, "warn_at") or due) <= now]
    if at_risk or running:
        due, clock = min(at_risk or running)
        return SlaStatus("at_risk" if at_risk else "on_track", clock, due,
                         f"{CLOCK_LABELS[clock]} due in {duration_words(due - now)}")
    return SlaStatus("met", None)



def overdue_clause(now):
    """SQL: a ticking clock of the ticket is past its deadline (the badge's "breached")."""
    return and_(Ticket.state.in_(TICKING_STATES),
                or_(and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at <= now),
                    Ticket.resolution_due_at <= now,
                    # IS NOT NULL: a priority without an update target leaves it NULL, and a
                    # NULL would make the NOT of at_risk_clause unknown (every row dropped)
                    and_(Ticket.next_response_at.is_(None), Ticket.next_response_due_at.is_not(None),
                         Ticket.next_response_due_at <= now)))


def past_warning_clause(now):
    """SQL: a running clock is past its warning point (at risk, or already overdue)."""
    return or_(and_(Ticket.first_response_at.is_(None), Ticket.first_response_warn_at <= now),
               Ticket.resolution_warn_at <= now,
               and_(Ticket.next_response_at.is_(None), Ticket.next_response_warn_at.is_not(None),
                    Ticket.next_response_warn_at <= now))


def at_risk_clause(now):
    """SQL: past a ticking clock's warning point but not yet its deadline (the badge's "at risk")."""
    return and_(Ticket.state.in_(TICKING_STATES), past_warning_clause(now), ~overdue_clause(now))
