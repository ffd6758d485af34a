"""An organization and its configuration: departments, calendar, priorities, statuses,
categories, escalation rules and the staff directory."""

import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.types import LongText, UTCDateTime, utcnow
from autotrack.models.vocab import Lifecycle, MemberRole, SlaCalendar


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    # Ticket numbers read PREFIX-NUMBER, e.g. ACME-1042.
    ticket_prefix: Mapped[str] = mapped_column(String(12))
    # The last ticket number issued; bumped with a row-locking UPDATE so numbers never repeat.
    ticket_seq: Mapped[int] = mapped_column(Integer, default=1000)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name
    # Percent of an SLA clock's window after which the assignee is warned once.
    sla_warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    # What a rating of 2 or less does (vocab.LowRatingAction): notify the department's managers,
    # reopen the ticket, or nothing.
    low_rating_action: Mapped[str] = mapped_column(
        String(16), default="notify_manager", server_default="notify_manager"
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where a scheduled job reads the staff directory (a CSV over https), and how often; None:
    # the directory is kept by CSV upload only (services/org/directory_sync.py).
    directory_url: Mapped[str | None] = mapped_column(String(500))
    directory_sync_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # Org admins must sign in with a second factor (they set it up at their next sign-in).
    require_2fa_for_admins: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A new random value whenever the SLA settings change (timezone, warning percent, business
    # calendar, escalation rules): the key of their in-process cache (services/sla/settings.py). Random,
    # not a counter, so a rolled-back change or a reused id can never match a cached entry.
    settings_token: Mapped[str] = mapped_column(String(16), default=lambda: secrets.token_hex(8))

    def __repr__(self):
        return f"<Organization {self.slug}>"


# Which top-level categories a role, or the people of a department, may choose when raising a
# ticket (services/tickets/categories.py `allowed_roots`); no row: every category.
role_categories = db.Table(
    "role_categories",
    db.Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    db.Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)
department_categories = db.Table(
    "department_categories",
    db.Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
    db.Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)


class Department(db.Model):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Where tickets go when their category names no department.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["DepartmentMember"]] = relationship(back_populates="department", cascade="all, delete-orphan")
    # Top-level categories its people may raise tickets in (none listed: all).
    categories: Mapped[list["Category"]] = relationship(secondary=department_categories, order_by="Category.name")

    def __str__(self):
        return self.name


class DepartmentMember(db.Model):
    """A user's place in a department: as manager, or as agent (optionally its lead)."""

    __tablename__ = "department_members"
    __table_args__ = (UniqueConstraint("department_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.AGENT)
    # A lead is the "senior" escalation level between agent and manager.
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)

    department: Mapped[Department] = relationship(back_populates="members")
    user: Mapped["User"] = relationship(back_populates="memberships")  # noqa: F821


class BusinessCalendar(db.Model):
    """Working hours and holidays in the organization's timezone (one per organization)."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="Business hours")

    hours: Mapped[list["WorkingHours"]] = relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="(WorkingHours.weekday, WorkingHours.start_minute)",
    )
    holidays: Mapped[list["Holiday"]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="Holiday.date"
    )


class WorkingHours(db.Model):
    """One working period of a weekday; a day may have several (e.g. a lunch break)."""

    __tablename__ = "working_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday … 6 = Sunday
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column(Integer)  # exclusive; 1440 = midnight

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="hours")


class Holiday(db.Model):
    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("calendar_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    date: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120))

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")


class Priority(db.Model):
    __tablename__ = "priorities"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    weight: Mapped[int] = mapped_column(Integer)  # higher is more urgent; queues sort by it
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    # The update clock (optional): how soon an agent must answer each time the requester writes.
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    calendar: Mapped[str] = mapped_column(String(16), default=SlaCalendar.BUSINESS_HOURS)
    # The priority a ticket gets when neither its category nor the requester chose one.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self):
        return self.name


class Status(db.Model):
    __tablename__ = "statuses"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    color: Mapped[str] = mapped_column(String(7), default="#6c757d")
    position: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(16), default=Lifecycle.OPEN)
    # The status a transition into this lifecycle category lands on.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self):
        return self.name


class Category(db.Model):
    """A node of the ticket category tree (at most 3 levels deep)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("org_id", "path"),)

    MAX_DEPTH = 3

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Full "A/B/C" path, the natural key for CSV import and display.
    path: Mapped[str] = mapped_column(String(250))
    depth: Mapped[int] = mapped_column(Integer, default=1)  # 1..3
    default_priority_id: Mapped[int | None] = mapped_column(ForeignKey("priorities.id"))
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped["Category | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Category"]] = relationship(back_populates="parent", order_by="Category.name")
    default_priority: Mapped[Priority | None] = relationship()
    default_department: Mapped[Department | None] = relationship()

    @property
    def display_path(self):
        return self.path.replace("/", " › ")

    def lineage(self):
        """This node and its ancestors, most specific first."""
        node = self
        while node is not None:
            yield node
            node = node.parent

    def __str__(self):
        return self.display_path


class EscalationRule(db.Model):
    __tablename__ = "escalation_rules"
    __table_args__ = (UniqueConstraint("org_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1..3
    delay_minutes: Mapped[int] = mapped_column(Integer)  # after the breach
    notify: Mapped[str] = mapped_column(String(16))  # EscalationTarget
    reassign: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Its emails (and, for level 1, the warnings') wait for the organization's next working
    # period when their moment falls outside it; the in-app notice is immediate either way.
    working_hours_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Reminders while overdue (vocab.Reminder; None: none): one digest per person and period
    # listing every overdue ticket this level has reached.
    reminder: Mapped[str | None] = mapped_column(String(16))


class DirectoryEntry(db.Model):
    """A staff member as the organization's HR list knows them; self-registration checks it."""

    __tablename__ = "directory_entries"
    __table_args__ = (
        UniqueConstraint("org_id", "employee_id"),
        Index("ix_directory_entries_org_email", "org_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    employee_id: Mapped[str] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))  # None: employee
    # False once the directory source stopped listing them: they can no longer register (their
    # account, if any, is left as it is). Listed again, they are active again.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    department: Mapped[Department | None] = relationship()
    role: Mapped["Role | None"] = relationship()  # noqa: F821


class DirectorySync(db.Model):
    """One read of an organization's directory source: what it found (the diff) and whether it
    was applied. `run_key` is unique: a scheduled period (or a console request) runs once,
    whichever worker claims it; a run left `running` past its lease may be taken over."""

    __tablename__ = "directory_syncs"
    __table_args__ = (Index("ix_directory_syncs_org", "org_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    run_key: Mapped[str] = mapped_column(String(80), unique=True)
    trigger: Mapped[str] = mapped_column(String(12))  # scheduled / manual / preview
    status: Mapped[str] = mapped_column(String(12))  # running / applied / unchanged / previewed / failed
    source_url: Mapped[str] = mapped_column(String(500))
    added: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    diff: Mapped[str | None] = mapped_column(LongText)  # JSON: [{action, employee_id, text, detail}]
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
