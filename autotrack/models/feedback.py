"""Requester feedback: a rating of one resolution of a ticket."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.types import UTCDateTime


class Feedback(db.Model):
    """Asked for when a ticket is resolved (a single-use link in the resolution email, or the
    portal), answered at most once. Only the token's hash is kept. The department and agent are
    the ticket's at the resolution: whose work is being rated."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_feedback_ticket", "ticket_id", "id"),
        Index("ix_feedback_report", "org_id", "rated_at"),  # satisfaction of a period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1 (poor) … 5 (excellent)
    comment: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped["Ticket"] = relationship()  # noqa: F821
