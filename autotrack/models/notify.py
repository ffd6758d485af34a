"""What the system tells people: in-app notifications and the email outbox."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.types import LongText, UTCDateTime, utcnow
from autotrack.models.user import User


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),  # the bell's count
        Index("ix_notifications_user", "user_id", "id"),  # the list, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(40))  # assigned, new_ticket, comment, warning, escalation
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    ticket: Mapped["Ticket | None"] = relationship()  # noqa: F821


class NotificationPreference(db.Model):
    """A user's choice for one topic of notices (services/preferences.py names the topics);
    no row means the topic's defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(20), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
    in_app: Mapped[bool] = mapped_column(Boolean)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; an admin may retry it


class OutboxEmail(db.Model):
    """An email to send. Written in the transaction that causes it; delivered by a job."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        Index("ix_outbox_emails_due", "status", "next_attempt_at"),
        Index("ix_outbox_emails_message_id", "org_id", "message_id"),  # a reply finds its ticket
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    # Either the bodies are given, or `template` (templates/email/<name>.txt|.html) and its JSON
    # `context` are, and the deliverer renders them (keeping the sweep fast) and stores the result.
    body_text: Mapped[str | None] = mapped_column(LongText)
    body_html: Mapped[str | None] = mapped_column(LongText)
    template: Mapped[str | None] = mapped_column(String(64))
    context: Mapped[str | None] = mapped_column(LongText)
    # A one-time link (password reset, invitation), encrypted: the bodies hold a placeholder and
    # delivery puts the link in, then clears this. Never shown in the console.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # e.g. escalation:<ticket>:<level>:<user>; the unique key is what makes "once" hold.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A deliverer leases a row until this time, so two workers never send it both.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mail about a ticket is answerable: its Message-ID is recorded, and threading headers and
    # Reply-To (the ticket's mailbox) are added at delivery.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    message_id: Mapped[str | None] = mapped_column(String(255))
