"""Configuration changes propagate: when an organization's SLA settings change (business hours,
holidays, timezone, warning point, a priority's targets or calendar, escalation rules), the next
sweep recomputes the due times of its open tickets.

A Session before_flush listener sees every such change made through the ORM (console, CSV import,
services) and records, in the same transaction, an SlaRecompute holding the settings as they were
(read from the database, which does not hold the change yet). `run_pending(now)`, called by the
sweep, claims each request (a lease on its row) and recomputes the affected open tickets in
batches through `sla.recompute`: the working time already counted is measured on the old
settings, the time left on the new ones; a pending ticket stays frozen at its pause.
"""

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from autotrack.extensions import db
from autotrack.models import (
    BusinessCalendar,
    EscalationRule,
    Holiday,
    Lifecycle,
    Organization,
    Priority,
    SlaCalendar,
    SlaRecompute,
    Ticket,
    WorkingHours,
)
from autotrack.models.settings_events import SLA_ORGANIZATION_FIELDS, SLA_SETTING_MODELS
from autotrack.services.sla import clocks
from autotrack.services.sla.business_calendar import ALWAYS, WorkCalendar, business_calendar

LEASE = timedelta(minutes=10)  # a sweep that died mid-request leaves it to another after this
BATCH = 1000
_PRIORITY_FIELDS = ("first_response_minutes", "resolution_minutes", "next_response_minutes", "calendar")
_ORG_FIELDS = SLA_ORGANIZATION_FIELDS
# Why a change of each kind of SLA setting moves due dates (every kind of SLA_SETTING_MODELS).
_REASONS = {
    BusinessCalendar: "business hours changed",
    WorkingHours: "business hours changed",
    Holiday: "holidays changed",
    EscalationRule: "escalation rules changed",
}
_OPEN = (Lifecycle.NEW, Lifecycle.OPEN, Lifecycle.PENDING)


# --- recording a change ------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _record_changes(session, _flush_context, _instances):
    changes = {}  # org_id -> {"all": bool, "priorities": set, "reasons": set}
    for obj in (*session.new, *session.dirty, *session.deleted):
        found = _what_changed(session, obj)
        if found is None:
            continue
        org_id, priority_id, reason = found
        change = changes.setdefault(org_id, {"all": False, "priorities": set(), "reasons": set()})
        if priority_id is None:
            change["all"] = True
        else:
            change["priorities"].add(priority_id)
        change["reasons"].add(reason)
    if not changes:
        return
    pending = session.info.setdefault("sla_recomputes", {})  # org_id -> this transaction's request
    for org_id, change in changes.items():
        request = pending.get(org_id)
        if request is None:
            # Not yet started by a sweep: still measured from the settings it recorded first.
            request = session.scalar(
                select(SlaRecompute)
                .where(SlaRecompute.org_id == org_id, SlaRecompute.done_at.is_(None), SlaRecompute.started_at.is_(None))
                .order_by(SlaRecompute.id)
                .limit(1)
            )
        if request is None:
            if not _has_open_tickets(session, org_id):
                continue  # nothing to recompute (a new organization being set up, say)
            request = SlaRecompute(
                org_id=org_id,
                before=json.dumps(snapshot(org_id)),
                all_tickets=False,
                priority_ids="",
                reason="",
                tickets_changed=0,
            )
            session.add(request)
        request.all_tickets = bool(request.all_tickets or change["all"])
        ids = {int(i) for i in (request.priority_ids or "").split(",") if i} | change["priorities"]
        request.priority_ids = ",".join(str(i) for i in sorted(ids))[:2000]
        reasons = {r for r in (request.reason or "").split("; ") if r} | change["reasons"]
        request.reason = "; ".join(sorted(reasons))[:255]
        pending[org_id] = request


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:
        session.info.pop("sla_recomputes", None)


def _has_open_tickets(session, org_id):
    return (
        session.scalar(select(Ticket.id).where(Ticket.org_id == org_id, Ticket.state.in_(_OPEN)).limit(1)) is not None
    )


def _what_changed(session, obj):
    """(org_id, priority_id or None for every ticket, reason) if `obj` changes SLA settings."""
    if isinstance(obj, Priority):
        if obj in session.new or not (obj in session.deleted or _changed(obj, _PRIORITY_FIELDS)):
            return None  # a new priority has no tickets yet
        return obj.org_id, obj.id, f"priority {obj.name} changed"
    if isinstance(obj, WorkingHours):
        calendar = obj.calendar or session.get(BusinessCalendar, obj.calendar_id)
        return (calendar.org_id, None, _REASONS[WorkingHours]) if calendar is not None else None
    if isinstance(obj, SLA_SETTING_MODELS):
        return obj.org_id, None, _REASONS[type(obj)]
    if isinstance(obj, Organization) and obj not in session.new and _changed(obj, _ORG_FIELDS):
        return obj.id, None, "timezone or warning point changed"
    return None


def _changed(obj, names):
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def snapshot(org_id):
    """The organization's SLA settings as the database holds them (JSON-ready)."""
    calendar = business_calendar(org_id)
    percent = db.session.scalar(select(Organization.sla_warning_percent).where(Organization.id == org_id))
    priorities = db.session.execute(
        select(Priority.id, *(getattr(Priority, f) for f in _PRIORITY_FIELDS)).where(Priority.org_id == org_id)
    ).all()
    return {
        "calendar": {
            "tz": calendar.tz.key,
            "always": calendar.always,
            "periods": {str(day): [list(p) for p in spans] for day, spans in calendar.periods.items()},
            "holidays": sorted(d.isoformat() for d in calendar.holidays),
        },
        "warning_percent": percent,
        "priorities": {str(row.id): {f: getattr(row, f) for f in _PRIORITY_FIELDS} for row in priorities},
    }


class Before:
    """An SlaRecompute's `before`: the calendar, warning point and targets counted with until then."""

    def __init__(self, data):
        cal = data["calendar"]
        self.business = WorkCalendar(
            tz=ZoneInfo(cal["tz"]),
            always=cal["always"],
            periods={int(day): tuple(tuple(p) for p in spans) for day, spans in cal["periods"].items()},
            holidays=frozenset(date.fromisoformat(d) for d in cal["holidays"]),
        )
        self.warning_percent = data["warning_percent"]
        self.priorities = data["priorities"]

    def target(self, priority, clock):
        old = self.priorities.get(str(priority.id))
        return old[f"{clock}_minutes"] if old else getattr(priority, f"{clock}_minutes")

    def calendar_for(self, priority):
        old = self.priorities.get(str(priority.id))
        kind = old["calendar"] if old else priority.calendar
        return ALWAYS if kind == SlaCalendar.ALWAYS else self.business


# --- applying it (the sweep) ----------------------------------------------------------------------


def run_pending(now):
    """Recompute the open tickets of every recorded change; the number of tickets changed."""
    changed = 0
    for request_id in db.session.scalars(
        select(SlaRecompute.id).where(SlaRecompute.done_at.is_(None)).order_by(SlaRecompute.id)
    ).all():
        claimed = db.session.execute(
            update(SlaRecompute)
            .where(
                SlaRecompute.id == request_id,
                SlaRecompute.done_at.is_(None),
                or_(SlaRecompute.started_at.is_(None), SlaRecompute.started_at < now - LEASE),
            )
            .values(started_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed != 1:
            continue  # another sweep has it
        request = db.session.get(SlaRecompute, request_id)
        before = Before(json.loads(request.before))
        priority_ids = [int(i) for i in request.priority_ids.split(",") if i]
        after_id, count = 0, 0
        while True:
            query = (
                select(Ticket)
                .where(Ticket.org_id == request.org_id, Ticket.state.in_(_OPEN), Ticket.id > after_id)
                .order_by(Ticket.id)
                .limit(BATCH)
            )
            if not request.all_tickets:
                query = query.where(Ticket.priority_id.in_(priority_ids))
            batch = db.session.scalars(query).all()
            if not batch:
                break
            try:
                count += sum(1 for ticket in batch if clocks.recompute(ticket, before, now, request.reason))
                db.session.commit()
            except StaleDataError:  # someone changed one of them meanwhile: the batch again, afresh
                db.session.rollback()
                continue
            after_id = batch[-1].id
        db.session.execute(
            update(SlaRecompute)
            .where(SlaRecompute.id == request_id)
            .values(done_at=now, tickets_changed=count)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        changed += count
    return changed
