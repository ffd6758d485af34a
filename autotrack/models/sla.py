"""SLA events: the record that a warning, breach or escalation level happened, once."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autotrack.extensions import db
from autotrack.models.types import UTCDateTime, utcnow


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
