"""A ticket's SLA timeline: for each clock (each cycle of the update clock) how its due time came
about, step by step with the arithmetic that produced it, and what the sweep did about it:
warnings, breaches, escalation levels, who was told and what became of each email.

Read-only. The steps are the ones services/sla/clocks.py recorded as it changed the clocks; each
step's arithmetic is done again here on the calendar, so a step whose stored due time the
calendar does not give back (the calendar was edited since, say) is flagged, never hidden.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import (
    BusinessCalendar,
    Holiday,
    Notification,
    OutboxEmail,
    OutboxStatus,
    SlaCalendar,
    SlaEvent,
    SlaStep,
    User,
)
from autotrack.services.sla import settings as sla_settings
from autotrack.services.sla.business_calendar import ALWAYS
from autotrack.services.timefmt import hours_words

_MICROSECOND = timedelta(microseconds=1)
_NOTICE_KINDS = {"warning": "sla_warning", "breach": "sla_breach", "escalation": "escalation"}


@dataclass
class Step:
    kind: str  # start / pause / resume / retarget / recompute / stop
    at: object
    detail: str
    due_at: object = None
    warn_at: object = None
    base_at: object = None
    working: timedelta | None = None
    calendar: str | None = None  # SlaCalendar
    arithmetic: str = ""  # "4 hours of business time from Fri 27 Nov 15:10 = Mon 30 Nov 11:10, skipping …"
    replayed_due: object = None  # what the calendar gives for base + working today
    explained: bool = True  # the calendar gives back the stored due time
    superseded: bool = False  # computed with settings changed since (a later recompute step took over)


@dataclass
class Delivery:
    recipient: str
    state: str  # queued / held / retrying / sent / failed
    at: object  # sent, or due to be tried
    error: str | None = None


@dataclass
class Moment:
    kind: str  # warning / breach / escalation
    fired_at: object
    due_at: object
    level: int = 0  # escalations
    clock: str = ""
    cycle: int = 0  # the update clock's
    notified: list = field(default_factory=list)  # names told in the app
    emails: list = field(default_factory=list)  # Delivery

    @property
    def overtaken(self):
        """A warning first seen after its deadline (the jobs were down): recorded, told to no one."""
        return self.kind == "warning" and self.fired_at >= self.due_at


@dataclass
class ClockTimeline:
    clock: str
    label: str
    cycle: int
    state: str  # running / paused / breached / met / missed / not due / stopped
    started_at: object
    stopped_at: object
    due_at: object
    warn_at: object
    target: timedelta | None
    counted: timedelta | None  # working time counted so far (at the stop, the pause or now)
    calendar: str | None
    steps: list
    moments: list
    explained: bool  # every step checks out and the last one holds the stored due time
    target_words: str = ""  # "24 working hours (3 working days)", "2 hours" (timefmt.target_words)

    @property
    def counted_words(self):
        """The working time counted, in hours (a working day is not 24 hours)."""
        return hours_words(self.counted) if self.counted is not None else ""


@dataclass
class Timeline:
    timezone: str
    clocks: list  # ClockTimeline, in order: first response, resolution, update clock cycles
    escalations: list  # Moment: the ticket's one ladder
    recorded: bool  # False for a ticket raised before steps were recorded

    @property
    def explained(self):
        return all(c.explained for c in self.clocks)


def timeline(ticket, now):
    """The ticket's timeline as of `now` (the caller's clock: a running clock is breached once
    `now` passes its due time)."""
    settings = sla_settings.org_settings(ticket.org_id)
    tz_name = ticket.organization.timezone or "UTC"
    explainer = _Explainer(settings.calendar, _holiday_names(ticket.org_id), ZoneInfo(tz_name))
    steps = db.session.scalars(select(SlaStep).where(SlaStep.ticket_id == ticket.id).order_by(SlaStep.id)).all()
    moments = _moments(ticket)

    groups = defaultdict(list)  # (clock, cycle) -> steps
    for step in steps:
        groups[step.clock, step.cycle].append(step)
    order = [("first_response", 0), ("resolution", 0)] + sorted(k for k in groups if k[0] == "next_response")
    clocks = []
    for clock, cycle in order:
        current = clock != "next_response" or cycle == ticket.next_response_cycle
        clocks.append(
            _clock_timeline(
                ticket, clock, cycle, groups.get((clock, cycle), []), current, moments, explainer, settings, now
            )
        )
    return Timeline(tz_name, clocks, [m for m in moments if m.kind == "escalation"], recorded=bool(steps))


def _clock_timeline(ticket, clock, cycle, steps, current, moments, explainer, settings, now):
    shown = [_step(step, explainer, settings) for step in steps]
    recomputes = [i for i, s in enumerate(shown) if s.kind == "recompute"]
    for earlier in shown[: recomputes[-1]] if recomputes else ():
        # Worked out with the settings of the time; the calendar today may give another answer.
        earlier.superseded, earlier.explained, earlier.arithmetic = True, True, ""
    starts = [s.at for s in shown if s.kind == "start"]
    stops = [s.at for s in shown if s.kind == "stop"]
    if current:
        due, warn = sla_settings._get(ticket, clock, "due_at"), sla_settings._get(ticket, clock, "warn_at")
        stopped_at = getattr(ticket, sla_settings._STOPPED_AT[clock])
        started_at = ticket.next_response_started_at if clock == "next_response" else ticket.created_at
    else:  # an earlier cycle of the update clock: what its steps left
        due, warn = shown[-1].due_at, shown[-1].warn_at
        stopped_at, started_at = (stops[-1] if stops else None), (starts[0] if starts else None)
    targets = [s.target_minutes for s in steps if s.target_minutes is not None]
    target = timedelta(minutes=targets[-1]) if targets and due is not None else None
    calendar_name = next((s.calendar for s in reversed(steps) if s.calendar), None)
    calendar = ALWAYS if calendar_name == SlaCalendar.ALWAYS else settings.calendar
    reference = stopped_at or (ticket.paused_at if current else None) or now
    counted = target - calendar.between(reference, due) if target is not None else None
    own = [
        m
        for m in moments
        if m.kind != "escalation" and m.clock == clock and (clock != "next_response" or m.cycle == cycle)
    ]

    if due is None:
        state = "not due"
    elif stopped_at is not None:
        state = "missed" if stopped_at > due or any(m.kind == "breach" for m in own) else "met"
    elif current and ticket.state not in sla_settings.TICKING_STATES:
        state = "paused" if ticket.paused_at else "stopped"
    else:
        breached = due <= now or (current and sla_settings._get(ticket, clock, "breached_at") is not None)
        state = "breached" if breached else "running"
    # Every step checks out, and the stored due time is the one the last step left.
    explained = all(s.explained for s in shown) and (not shown or shown[-1].due_at == due or not current)
    if current and not shown and due is not None:
        explained = False  # a due time without steps (a ticket from before they were recorded)
    words = (
        sla_settings.target_words(ticket.org_id, targets[-1], calendar_name or ticket.priority.calendar)
        if target is not None
        else ""
    )
    return ClockTimeline(
        clock,
        sla_settings.CLOCK_LABELS[clock],
        cycle,
        state,
        started_at,
        stopped_at,
        due,
        warn,
        target,
        counted,
        calendar_name,
        shown,
        own,
        explained,
        words,
    )


def _step(step, explainer, settings):
    shown = Step(
        step.kind,
        step.at,
        step.detail or "",
        step.due_at,
        step.warn_at,
        step.base_at,
        step.working_us * _MICROSECOND if step.working_us is not None else None,
        step.calendar,
    )
    if shown.base_at is not None and shown.working is not None:
        calendar = ALWAYS if step.calendar == SlaCalendar.ALWAYS else settings.calendar
        shown.replayed_due = calendar.shift(shown.base_at, shown.working)
        shown.explained = shown.replayed_due == shown.due_at
        shown.arithmetic = explainer.explain(calendar, shown.base_at, shown.working, shown.replayed_due)
    return shown


def _moments(ticket):
    """The sweep's warnings, breaches and escalations of the ticket, with who was told in the
    app and each email's delivery state."""
    events = db.session.scalars(select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)).all()
    if not events:
        return []
    # Who was told of which moment, from the notification rows themselves: one sweep may fire
    # several moments at once (a late sweep catching up levels 1-3, two clocks warning together),
    # so the kind and time are not enough; the message names the level or the clock.
    told = defaultdict(list)  # (notification kind, created_at, level or clock) -> user ids
    for user_id, kind, created_at, message in db.session.execute(
        select(Notification.user_id, Notification.kind, Notification.created_at, Notification.message)
        .where(Notification.ticket_id == ticket.id, Notification.kind.in_(_NOTICE_KINDS.values()))
        .order_by(Notification.id)
    ):
        told[kind, created_at, _about(kind, message)].append(user_id)
    names = (
        dict(
            db.session.execute(
                select(User.id, User.name).where(User.id.in_({uid for ids in told.values() for uid in ids}))
            ).all()
        )
        if told
        else {}
    )
    emails = db.session.scalars(
        select(OutboxEmail)
        .where(
            OutboxEmail.ticket_id == ticket.id,
            OutboxEmail.dedupe_key.like("warning:%") | OutboxEmail.dedupe_key.like("escalation:%"),
        )
        .order_by(OutboxEmail.id)
    ).all()
    moments = []
    for event in events:
        parts = event.key.split(":")
        cycle = int(parts[2]) if event.clock == "next_response" and len(parts) == 3 else 0
        about = event.level if event.kind == "escalation" else event.clock
        moment = Moment(
            event.kind,
            event.fired_at,
            event.due_at,
            event.level,
            event.clock,
            cycle,
            [names.get(uid, "?") for uid in told.get((_NOTICE_KINDS[event.kind], event.fired_at, about), [])],
        )
        if event.kind == "warning":
            clock_key = f"next_response:{cycle}" if event.clock == "next_response" else event.clock
            prefix = f"warning:{ticket.id}:{clock_key}:"
        elif event.kind == "escalation":
            prefix = f"escalation:{ticket.id}:{event.level}:"
        else:
            prefix = None  # a breach is told in the app; the escalation levels send the emails
        if prefix:
            moment.emails = [_delivery(e) for e in emails if e.dedupe_key.startswith(prefix)]
        moments.append(moment)
    return moments


_LEVEL = re.compile(r"\(level (\d+)\)")


def _about(kind, message):
    """The level an escalation notice is about, or the clock of a warning or breach notice (as
    services/sla/notices.py words them: "ACME-1 escalated to you (level 2): …", "ACME-1: resolution due in …")."""
    if kind == _NOTICE_KINDS["escalation"]:
        found = _LEVEL.search(message)
        return int(found.group(1)) if found else None
    return next((clock for clock, label in sla_settings.CLOCK_LABELS.items() if f": {label} " in message), None)


def _delivery(email):
    if email.status == OutboxStatus.SENT:
        return Delivery(email.recipient, "sent", email.sent_at)
    if email.status == OutboxStatus.FAILED:
        return Delivery(email.recipient, "failed", email.next_attempt_at, email.last_error)
    if email.attempts:
        return Delivery(email.recipient, "retrying", email.next_attempt_at, email.last_error)
    held = email.next_attempt_at > email.created_at  # kept for the next working period
    return Delivery(email.recipient, "held" if held else "queued", email.next_attempt_at)


def _holiday_names(org_id):
    return dict(
        db.session.execute(
            select(Holiday.date, Holiday.name)
            .join(BusinessCalendar, BusinessCalendar.id == Holiday.calendar_id)
            .where(BusinessCalendar.org_id == org_id)
        ).all()
    )


class _Explainer:
    """The arithmetic in words, in the organization's timezone."""

    def __init__(self, business, holidays, tz):
        self.business, self.holidays, self.tz = business, holidays, tz

    def local(self, moment):
        return moment.astimezone(self.tz).strftime("%a %d %b %H:%M")

    def explain(self, calendar, base, working, due):
        kind = "time around the clock" if calendar.always else "business time"
        direction = "from" if working >= timedelta(0) else "before"  # before: already overdue by that much
        text = f"{hours_words(working)} of {kind} {direction} {self.local(base)} = {self.local(due)}"
        if calendar.always:
            return text
        skipped = self._skipped_days(calendar, *sorted((base, due)))
        return f"{text}, skipping {_and(skipped)}" if skipped else text

    def _skipped_days(self, calendar, base, due):
        """The whole days between base and due without working time, in words."""
        first, last = base.astimezone(self.tz).date(), due.astimezone(self.tz).date()
        closed, holidays = [], []
        day = first + timedelta(days=1)
        while day < last:
            if day in calendar.holidays:
                holidays.append(
                    f"the {day:%-d %b} holiday" + (f" ({self.holidays[day]})" if day in self.holidays else "")
                )
            elif not calendar.periods.get(day.weekday()):
                closed.append(day)
            day += timedelta(days=1)
        words = []
        weekends = [d for d in closed if d.weekday() >= 5]
        if closed and len(weekends) == len(closed) and len(closed) % 2 == 0:
            words.append("the weekend" if len(closed) == 2 else f"{len(closed) // 2} weekends")
        elif closed:
            words.append(", ".join(f"{d:%a %-d %b}" for d in closed) + " (no working hours)")
        return words + holidays


def _and(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
