"""What agents keep for their daily work: canned replies and saved queue views."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from autotrack.extensions import db
from autotrack.models.types import UTCDateTime, utcnow


class CannedReply(db.Model):
    """Organization-wide (no owner; managed in the console) or an agent's own."""

    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_org_owner", "org_id", "owner_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __str__(self):
        return self.title


class SavedView(db.Model):
    """A queue's filters under a name: the agent's own, or shared with one of their departments."""

    __tablename__ = "saved_views"
    __table_args__ = (
        Index("ix_saved_views_org_owner", "org_id", "owner_id"),
        Index("ix_saved_views_org_department", "org_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))  # the queue's filters as a URL query string
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
