"""SLA events: the record that a warning, breach or escalation level happened, once."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autotrack.extensions import db
from autotrack.models.types import LongText, UTCDateTime, utcnow


class SlaEvent(db.Model):
    """One SLA moment of one ticket. The unique (ticket, key) makes every moment fire once,
    however many sweeps run at the same time or again after a crash."""

    __tablename__ = "sla_events"
    __table_args__ = (
        UniqueConstraint("ticket_id", "key"),
        # The dashboard's breaches and escalations of a period by department, from this index alone.
        Index("ix_sla_events_period", "org_id", "fired_at", "kind", "clock", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # The ticket's department when the moment fired: the team that missed it, even if the
    # ticket moves on later.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # warning:first_response, breach:resolution, escalation:2, …
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # warning / breach / escalation
    clock: Mapped[str] = mapped_column(String(16))  # first_response / resolution
    level: Mapped[int] = mapped_column(Integer, default=0)  # escalation level; 0 otherwise
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the deadline this moment belongs to
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the sweep's `now`
    sweep_id: Mapped[str] = mapped_column(String(32))  # which sweep run wrote it


class SlaStep(db.Model):
    """One change services/sla/clocks.py made to a ticket's SLA clock, with the arithmetic behind it:
    `due_at` = `working_us` microseconds of the `calendar`'s working time after `base_at`. The
    SLA timeline replays these to explain every stored due time."""

    __tablename__ = "sla_steps"
    __table_args__ = (
        Index("ix_sla_steps_ticket", "ticket_id", "id"),
        # The SLA report's update-clock cycles answered in a period.
        Index("ix_sla_steps_report", "org_id", "clock", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    clock: Mapped[str] = mapped_column(String(16))  # first_response / resolution / next_response
    cycle: Mapped[int] = mapped_column(Integer, default=0)  # the update clock's cycle; 0 otherwise
    kind: Mapped[str] = mapped_column(String(16))  # start / pause / resume / retarget / recompute / stop
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it happened
    base_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # what the arithmetic counts from
    working_us: Mapped[int | None] = mapped_column(BigInteger)  # working time added to base_at
    calendar: Mapped[str | None] = mapped_column(String(16))  # SlaCalendar the arithmetic used
    target_minutes: Mapped[int | None] = mapped_column(Integer)  # the clock's target from then on
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the clock's due time afterwards
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(String(255))


class SlaRecompute(db.Model):
    """A change to an organization's SLA settings (business hours, holidays, timezone, warning
    point, a priority's targets, escalation rules) whose open tickets the next sweep recomputes.
    `before` is the settings as they were, so the working time already counted is measured the
    way it was counted. Several changes before a sweep share one row (the earliest `before`)."""

    __tablename__ = "sla_recomputes"
    __table_args__ = (Index("ix_sla_recomputes_pending", "done_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    before: Mapped[str] = mapped_column(LongText)  # JSON: calendar, warning percent, every priority's targets
    all_tickets: Mapped[bool] = mapped_column(Boolean, default=False)  # the calendar or warning point changed
    priority_ids: Mapped[str] = mapped_column(String(2000), default="")  # "3,7": priorities whose targets changed
    reason: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # when the change was written
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sweep's lease
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tickets_changed: Mapped[int] = mapped_column(Integer, default=0)


class SlaDigestRun(db.Model):
    """One organization's reminder digests of one period ("daily:2026-11-24", "hourly:…T09"):
    the unique key lets exactly one sweep write them, however many run at once."""

    __tablename__ = "sla_digest_runs"
    __table_args__ = (UniqueConstraint("org_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    period: Mapped[str] = mapped_column(String(40))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the sweep's `now`
    emails: Mapped[int] = mapped_column(Integer, default=0)  # digests queued
