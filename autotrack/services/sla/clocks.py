"""Keeping the SLA clocks (called by the ticket service), when the sweep next needs to look at
a ticket, and what people see of the clocks (the badge, the overdue and at-risk SQL).

Each ticket has up to three clocks: first response, resolution and, where the priority sets a
target, the update clock (next response), which runs again each time the requester writes while
no cycle runs and stops at the next public staff reply. Their deadlines and warning points
are computed here (on the priority's calendar) and stored on the ticket, together with
`sla_next_check_at`, the next moment anything can happen to it.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, insert, or_

from autotrack.extensions import db
from autotrack.models import (
    ACTIVE_STATES,
    Lifecycle,
    SlaStep,
    Ticket,
)
from autotrack.services import audit
from autotrack.services.sla.business_calendar import ZERO
from autotrack.services.sla.settings import (
    _COLUMN,
    _STOPPED_AT,
    CLOCK_LABELS,
    CLOCKS,
    TICKING_STATES,
    _get,
    _is_stopped,
    _local,
    _set,
    _target,
    calendar_for,
    org_settings,
    target_words,
)
from autotrack.services.timefmt import duration_words, hours_words

# --- keeping the clocks (called by the ticket service) -----------------------------------------

# Every change to a clock is also recorded as an SlaStep with its arithmetic (the SLA timeline's
# source): start, pause, resume, retarget (a new priority) and stop.


def _step(ticket, clock, kind, at, *, base=None, working=None, calendar=None, detail=None, new_target=True, into=None):
    """Record a step; `new_target=False` for a step that leaves the clock on the target it had.
    `into`: a list that collects the step as a row instead (a new ticket's, see start_clocks)."""
    values = {
        "org_id": ticket.org_id,
        "clock": clock,
        "kind": kind,
        "at": at,
        "cycle": ticket.next_response_cycle if clock == "next_response" else 0,
        "base_at": base,
        "working_us": working // _MICROSECOND if working is not None else None,
        "calendar": calendar,
        "target_minutes": _target(ticket.priority, clock) if new_target else None,
        "due_at": _get(ticket, clock, "due_at"),
        "warn_at": _get(ticket, clock, "warn_at"),
        "detail": detail[:255] if detail else None,
    }
    if into is None:
        ticket.sla_steps.add(SlaStep(**values))
    else:
        into.append(values)


def insert_steps(ticket_id, steps):
    """Save the steps start_clocks returned, once their ticket has an id: one multi-row INSERT
    (SQLite too; the unit of work would insert them a row at a time there)."""
    db.session.execute(insert(SlaStep.__table__).values([{**step, "ticket_id": ticket_id} for step in steps]))


_MICROSECOND = timedelta(microseconds=1)


def _running(ticket):
    """The clocks that count now (not stopped, something due)."""
    return [clock for clock in CLOCKS if not _is_stopped(ticket, clock) and _get(ticket, clock, "due_at") is not None]


def start_clocks(ticket, now):
    """Set the deadlines and warning points of a new ticket (raising it is the requester's first
    message, so the update clock's first cycle starts too). Returns the steps as rows for the
    ticket's creator to save with insert_steps once the ticket has its id."""
    settings = org_settings(ticket.org_id)
    steps = []
    for clock in ("first_response", "resolution"):
        minutes = _target(ticket.priority, clock)
        _arm(
            ticket,
            clock,
            now,
            minutes,
            settings,
            detail=f"{ticket.priority.name}: {_words(ticket.priority, minutes)}",
            into=steps,
        )
    _start_cycle(ticket, now, settings, into=steps)
    refresh_next_check(ticket, settings)
    return steps


def _arm(ticket, clock, start, minutes, settings, spent=0, *, kind="start", at=None, detail=None, into=None):
    """Due time and warning point of `clock`: `minutes` of its calendar's working time from
    `start`, less the `spent` minutes already counted. When more than `minutes` were spent,
    the due time is the past moment the target was used up (the sweep breaches it at that time)."""
    calendar = settings.calendar_for(ticket.priority)
    working = timedelta(minutes=minutes - spent)
    _set(ticket, clock, "due_at", calendar.shift(start, working))
    _set(
        ticket,
        clock,
        "warn_at",
        calendar.shift(start, timedelta(minutes=minutes * settings.warning_percent / 100 - spent)),
    )
    _step(
        ticket,
        clock,
        kind,
        at or start,
        base=start,
        working=working,
        calendar=ticket.priority.calendar,
        detail=detail,
        into=into,
    )


def _words(priority, minutes):
    return target_words(priority.org_id, minutes, priority.calendar)


def _start_cycle(ticket, now, settings=None, into=None):
    """A new cycle of the update clock: the requester waits from `now`. Without a target on the
    priority the wait is still recorded (a later priority with one counts from it)."""
    ticket.next_response_cycle = (ticket.next_response_cycle or 0) + 1
    ticket.next_response_started_at = now
    ticket.next_response_at = ticket.next_response_warned_at = ticket.next_response_breached_at = None
    ticket.next_response_due_at = ticket.next_response_warn_at = None
    minutes = ticket.priority.next_response_minutes
    if minutes is not None:
        _arm(
            ticket,
            "next_response",
            now,
            minutes,
            settings or org_settings(ticket.org_id),
            detail=f"{ticket.priority.name}: {_words(ticket.priority, minutes)}",
            into=into,
        )
    else:
        _step(ticket, "next_response", "start", now, detail=f"{ticket.priority.name} sets no update target", into=into)


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
            _step(
                ticket,
                clock,
                "retarget",
                now,
                new_target=False,
                detail=f"{change}: already breached, due {_local(due, settings.calendar.tz.key)}; "
                f"the due time and the breach stay",
            )
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
        _arm(
            ticket,
            clock,
            reference,
            target,
            settings,
            spent,
            kind="retarget",
            at=now,
            detail=f"{change}: {hours_words(timedelta(minutes=max(spent, 0)))} counted of "
            f"{_words(ticket.priority, target)}",
        )
    refresh_next_check(ticket, settings)


_SAME = timedelta(seconds=1)  # closer than this is the same moment (float minutes round to microseconds)


def recompute(ticket, before, now, why):
    """The organization's SLA settings changed (services/sla/changes.py): recompute the running
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
        new_warn = new_calendar.shift(
            reference, timedelta(minutes=new_target * settings.warning_percent / 100) - counted
        )
        if abs(new_due - due) < _SAME and (warn is None or abs(new_warn - warn) < _SAME):
            continue
        _set(ticket, clock, "due_at", new_due)
        _set(ticket, clock, "warn_at", new_warn)
        _step(
            ticket,
            clock,
            "recompute",
            now,
            base=reference,
            working=left,
            calendar=ticket.priority.calendar,
            detail=f"{why}: {hours_words(max(counted, ZERO))} counted",
        )
        moved.append(
            f"{CLOCK_LABELS[clock]} due {_local(due, settings.calendar.tz.key)} → "
            f"{_local(new_due, settings.calendar.tz.key)}"
        )
    refresh_next_check(ticket, settings)
    if moved:
        audit.record(
            ticket.org_id,
            "sla_recompute",
            actor=None,
            ticket=ticket,
            detail=f"{why}: {'; '.join(moved)}"[:255],
            now=now,
        )
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
        _step(
            ticket,
            clock,
            "resume",
            now,
            base=due,
            working=stood,
            calendar=ticket.priority.calendar,
            detail=f"{why} after {hours_words(stood)} of working time",
        )


def refresh_next_check(ticket, settings=None):
    """Store when the sweep next needs to look at this ticket (None: nothing can happen)."""
    delays = (settings or org_settings(ticket.org_id)).delays
    ticket.sla_next_check_at = next_check_at({name: getattr(ticket, name) for name in _VIEW_FIELDS}, delays)


# The SLA columns the sweep reads, as a plain dict per ticket ("view"): the sweep handles tens of
# thousands of them, and dict lookups are the cheapest Python has.
_VIEW_FIELDS = (
    "state",
    "escalation_level",
    *_STOPPED_AT.values(),
    *(_COLUMN[clock, what] for clock in CLOCKS for what in ("due_at", "warn_at", "warned_at", "breached_at")),
)
# Per clock: (due, warn, warned, breached, stopped) column names.
CLOCK_FIELDS = tuple(
    (
        clock,
        _COLUMN[clock, "due_at"],
        _COLUMN[clock, "warn_at"],
        _COLUMN[clock, "warned_at"],
        _COLUMN[clock, "breached_at"],
        _STOPPED_AT[clock],
    )
    for clock in CLOCKS
)


def _breach_start(view):
    """When the running clocks' earliest recorded breach began (escalations count from it)."""
    dues = [
        view[due]
        for _, due, _, _, breached, stopped in CLOCK_FIELDS
        if view[stopped] is None and view[breached] is not None
    ]
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


SWEEP_COLUMNS = (
    Ticket.id,
    Ticket.org_id,
    Ticket.number,
    Ticket.title,
    Ticket.state,
    Ticket.department_id,
    Ticket.assignee_id,
    Ticket.priority_id,
    Ticket.escalation_level,
    Ticket.next_response_cycle,
    *(getattr(Ticket, name) for name in _VIEW_FIELDS[2:]),
)


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
        return {
            "on_track": "On track",
            "at_risk": "At risk",
            "breached": "Breached",
            "paused": "Paused",
            "met": "SLA met",
            "missed": "SLA missed",
        }[self.state]


def status_of(ticket, now):
    """The running clock's state: breached once past its deadline, at risk once past its
    warning point, else on track; a paused ticket shows its clocks stand still; a finished
    ticket says whether both clocks were met."""
    if ticket.state == Lifecycle.PENDING:
        return SlaStatus("paused", None, words="clocks stopped while waiting")
    if ticket.state not in TICKING_STATES:
        missed = any(_get(ticket, clock, "breached_at") for clock in CLOCKS)
        return SlaStatus("missed" if missed else "met", None)
    running = [
        (_get(ticket, clock, "due_at"), clock)
        for clock in CLOCKS
        if not _is_stopped(ticket, clock) and _get(ticket, clock, "due_at") is not None
    ]
    breached = [(due, clock) for due, clock in running if due <= now or _get(ticket, clock, "breached_at")]
    if breached:
        due, clock = min(breached)
        return SlaStatus("breached", clock, due, f"{CLOCK_LABELS[clock]} overdue by {duration_words(now - due)}")
    at_risk = [(due, clock) for due, clock in running if (_get(ticket, clock, "warn_at") or due) <= now]
    if at_risk or running:
        due, clock = min(at_risk or running)
        return SlaStatus(
            "at_risk" if at_risk else "on_track",
            clock,
            due,
            f"{CLOCK_LABELS[clock]} due in {duration_words(due - now)}",
        )
    return SlaStatus("met", None)


def overdue_clause(now):
    """SQL: a ticking clock of the ticket is past its deadline (the badge's "breached")."""
    return and_(
        Ticket.state.in_(TICKING_STATES),
        or_(
            and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at <= now),
            Ticket.resolution_due_at <= now,
            # IS NOT NULL: a priority without an update target leaves it NULL, and a
            # NULL would make the NOT of at_risk_clause unknown (every row dropped)
            and_(
                Ticket.next_response_at.is_(None),
                Ticket.next_response_due_at.is_not(None),
                Ticket.next_response_due_at <= now,
            ),
        ),
    )


def breached_clause():
    """SQL: an active ticket the sweep has escalated or found past a deadline (a recorded breach
    of a clock that still counts; the manager's list). Unlike overdue_clause it needs no `now`:
    it reads what the sweep wrote."""
    return and_(
        Ticket.state.in_(ACTIVE_STATES),
        or_(
            Ticket.escalation_level > 0,
            Ticket.first_response_breached_at.is_not(None),
            Ticket.resolution_breached_at.is_not(None),
            and_(Ticket.next_response_at.is_(None), Ticket.next_response_breached_at.is_not(None)),
        ),
    )


def past_warning_clause(now):
    """SQL: a running clock is past its warning point (at risk, or already overdue)."""
    return or_(
        and_(Ticket.first_response_at.is_(None), Ticket.first_response_warn_at <= now),
        Ticket.resolution_warn_at <= now,
        and_(
            Ticket.next_response_at.is_(None),
            Ticket.next_response_warn_at.is_not(None),
            Ticket.next_response_warn_at <= now,
        ),
    )


def at_risk_clause(now):
    """SQL: past a ticking clock's warning point but not yet its deadline (the badge's "at risk")."""
    return and_(Ticket.state.in_(TICKING_STATES), past_warning_clause(now), ~overdue_clause(now))
