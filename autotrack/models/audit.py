"""The append-only audit trail."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.types import UTCDateTime, utcnow
from autotrack.models.user import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_ticket", "ticket_id", "id"),
        Index("ix_audit_events_org_time", "org_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(40))  # create, assign, transition, comment, …
    from_value: Mapped[str | None] = mapped_column(String(255))
    to_value: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


class AuditTrailIsAppendOnly(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, flush_context, instances):
    """Audit events are evidence: once written they are never updated or deleted."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (AuditEvent, SecurityEvent)) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailIsAppendOnly("audit events cannot be changed or deleted")


class SecurityEvent(db.Model):
    """What an auditor asks about: sign-ins and failures, lockouts, denied access, role and
    password changes, ended sessions. Append-only like the audit trail; an attempt on an
    unknown address belongs to no organization (and so to no org admin's view)."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_org", "org_id", "id"),
        Index("ix_security_events_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys: writing an event must not lock the user's or the organization's row (a
    # sign-in's update of the user and a ticket's numbering of the organization deadlocked on
    # MariaDB over them). Users and organizations are never deleted, so the ids stay meaningful.
    org_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(primaryjoin="foreign(SecurityEvent.user_id) == User.id", viewonly=True)
