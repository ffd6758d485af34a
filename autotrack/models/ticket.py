"""Tickets and what hangs off them: comments, tasks, attachments."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.org import Category, Department, Organization, Priority, Status
from autotrack.models.types import LongText, UTCDateTime, utcnow
from autotrack.models.user import User
from autotrack.models.vocab import Lifecycle


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("org_id", "number"),
        # Department queues: open work of a department, most urgent deadline first.
        Index("ix_tickets_queue", "org_id", "department_id", "state", "resolution_due_at"),
        # A department's tickets newest first, the state read from the index (the queue's
        # department lanes on MariaDB; migration 0029).
        Index("ix_tickets_department", "org_id", "department_id", "id", "state"),
        Index("ix_tickets_assignee", "org_id", "assignee_id", "state", "resolution_due_at"),
        Index("ix_tickets_requester", "org_id", "requester_id", "id"),
        Index("ix_tickets_org_state", "org_id", "state", "id"),
        # The SLA sweep reads only this index: tickets whose next SLA moment has come.
        Index("ix_tickets_sla_next_check", "sla_next_check_at"),
        # The console dashboard's aggregates, each answered from one index alone: the open
        # backlog by priority, status and age; first responses and resolutions of a period
        # (met or breached, and how long they took).
        Index("ix_tickets_backlog", "org_id", "state", "priority_id", "status_id", "created_at"),
        Index("ix_tickets_responded", "org_id", "first_response_at", "first_response_breached_at", "created_at"),
        Index("ix_tickets_resolved", "org_id", "resolved_at", "resolution_breached_at", "created_at"),
        # The at-risk queue and filters: a running clock past its warning point, one index per
        # clock (the databases combine them for the OR), so only those tickets are read.
        Index("ix_tickets_risk_resolution", "org_id", "state", "resolution_warn_at"),
        Index("ix_tickets_risk_first", "org_id", "state", "first_response_at", "first_response_warn_at"),
        Index("ix_tickets_risk_next", "org_id", "state", "next_response_at", "next_response_warn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    number: Mapped[int] = mapped_column(Integer)  # per organization; shown as PREFIX-number
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(LongText, default="")
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))
    # Copy of status.category, kept in step by the ticket service, so queues and the SLA
    # sweep filter on an indexed column of this table instead of joining statuses.
    state: Mapped[str] = mapped_column(String(16), default=Lifecycle.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16), default="web")  # web / api / email

    # SLA bookkeeping (UTC), kept by services/sla/clocks.py. due: the deadline; warn: the warning
    # point (e.g. 75% of the window); first_response_at / resolved_at: when the clock stopped;
    # *_warned_at / *_breached_at: when the sweep recorded the warning / the breach.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The update clock runs in cycles: each starts when the requester writes while no cycle runs
    # (creation, a public reply, a reply by mail) and stops at the next public staff reply
    # (next_response_at) or the resolution. The cycle number keeps each cycle's SLA events apart.
    next_response_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_cycle: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the ticket is pending (clock paused); cleared on resume.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A duplicate merged into another ticket (of the same organization): closed, and its number
    # leads to that one. No foreign key: SQLite can neither add one to, nor drop a column with
    # one from, `tickets` without the table rebuild that loses its full-text triggers (0005).
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    # Highest escalation level fired so far (0 = none).
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # The next moment the sweep must look at this ticket (a warning, a deadline or an
    # escalation level); None while no clock runs. Derived from the columns above.
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The time of the last change, set by the service that makes it (at its `now`); no
    # onupdate: a second flush within one change, or the sweep, would stamp the wall clock.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic lock: an update based on a stale read fails (StaleDataError -> 409) instead of
    # silently overwriting a concurrent change; the SLA sweep bumps it too.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    organization: Mapped[Organization] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    department: Mapped[Department] = relationship()
    category: Mapped[Category | None] = relationship()
    priority: Mapped[Priority] = relationship()
    status: Mapped[Status] = relationship()
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="ticket", order_by="Comment.id", cascade="all, delete-orphan"
    )
    tasks: Mapped[list["Task"]] = relationship(
        back_populates="ticket", order_by="Task.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    # Write-only: services/sla/clocks.py adds a step at every change of a clock without loading the
    # ticket's earlier ones (and a new ticket's steps are saved with it).
    sla_steps: WriteOnlyMapped["SlaStep"] = relationship(  # noqa: F821
        "SlaStep", cascade="all, delete-orphan", passive_deletes=True, order_by="SlaStep.id"
    )

    @property
    def reference(self):
        """The human-friendly number, e.g. ACME-1042."""
        return f"{self.organization.ticket_prefix}-{self.number}"

    def __str__(self):
        return f"{self.reference} {self.title}"


class TicketLink(db.Model):
    """Two tickets of one organization that belong together: related, or parent and child
    (`from_ticket` is the parent). One link per pair, whichever way round."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("from_ticket_id", "to_ticket_id"), Index("ix_ticket_links_to", "to_ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    from_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    to_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))  # related / parent
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_ticket: Mapped[Ticket] = relationship(foreign_keys=[from_ticket_id])
    to_ticket: Mapped[Ticket] = relationship(foreign_keys=[to_ticket_id])


class TicketWatcher(db.Model):
    """Someone told of a ticket's public updates besides its requester and assignee: staff who
    follow it, or a colleague the requester (or staff) copied on it. A copied colleague may read
    and answer the ticket; following grants nothing the follower could not already see."""

    __tablename__ = "ticket_watchers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "user_id"),
        Index("ix_ticket_watchers_user", "user_id", "kind", "ticket_id"),  # "copied on" lists and access
    )

    FOLLOW = "follow"
    CC = "cc"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # follow / cc
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(LongText)
    # A reply by mail keeps only its new text in `body`; the whole mail is here, for staff.
    email_text: Mapped[str | None] = mapped_column(LongText)
    # Internal notes are for staff only; requesters never see them.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class Task(db.Model):
    """A to-do inside a ticket (e.g. "order replacement laptop"), with its own assignee."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee_open", "assignee_id", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="tasks")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class Attachment(db.Model):
    """A file's metadata; the bytes live under AUTOTRACK_UPLOAD_DIR at stored_path."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))  # as the user named it, for display
    stored_path: Mapped[str] = mapped_column(String(255))  # relative to the upload dir
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


def in_declared_schema(obj, name, type_, reflected, compare_to):
    """Alembic's include_object: the full-text search objects of migration 0005 (an FTS5 table
    and its shadow tables on SQLite, a FULLTEXT index on MariaDB) live outside the models,
    which cannot describe them; autogenerate and `db check` leave them alone."""
    if type_ == "table" and name.startswith("tickets_fts"):
        return False
    return not (type_ == "index" and name == "ft_tickets_text")
