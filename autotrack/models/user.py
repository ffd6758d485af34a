"""Users and the roles (named permission sets) they hold."""

from datetime import datetime
from typing import NamedTuple

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.org import DepartmentMember, Organization
from autotrack.models.types import UTCDateTime, utcnow
from autotrack.models.vocab import MemberRole, Portal


class Role(db.Model):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    # org_admin / manager / agent / employee for the built-in roles; None for custom roles.
    builtin: Mapped[str | None] = mapped_column(String(16))
    portal: Mapped[str] = mapped_column(String(16), default=Portal.EMPLOYEE)
    description: Mapped[str] = mapped_column(String(250), default="")

    permission_rows: Mapped[list["RolePermission"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    # Top-level categories this role may raise tickets in (none listed: all).
    categories = relationship("Category", secondary="role_categories", order_by="Category.name")

    # The signed-in user's loader (services/people/signed_in.py) sets this to a function giving the
    # permissions from the per-organization cache, or None when it cannot vouch for them (changes
    # not yet flushed): the rows are then read. Rows loaded in this session always win.
    cached_permissions = None

    @property
    def permissions(self) -> frozenset[str]:
        if self.cached_permissions is not None and "permission_rows" not in self.__dict__:
            cached = self.cached_permissions()
            if cached is not None:
                return cached
        return frozenset(row.permission for row in self.permission_rows)

    def set_permissions(self, names):
        wanted = set(names)
        self.permission_rows = [r for r in self.permission_rows if r.permission in wanted]
        have = self.permissions
        self.permission_rows.extend(RolePermission(permission=p) for p in sorted(wanted - have))

    def __str__(self):
        return self.name


class RolePermission(db.Model):
    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(40), primary_key=True)


class Seat(NamedTuple):
    """A user's place in a department, as plain values (a DepartmentMember without its session)."""

    department_id: int
    department_name: str
    role: str
    is_lead: bool


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Stored lower-case; unique across the deployment so a login needs no organization.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None until invited user sets one
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    # The department an employee belongs to (from the directory); staff work via memberships.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    employee_id: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by a password change or reset, a role change, deactivation and "sign out
    # everywhere": every session and API token made under an older value stops working.
    auth_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Two-factor sign-in (services/people/two_factor.py): the TOTP secret, encrypted; when it was turned
    # on (None: off); the last time step accepted, so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    organization: Mapped[Organization] = relationship()
    role: Mapped[Role] = relationship(lazy="joined")
    department = relationship("Department")
    memberships: Mapped[list[DepartmentMember]] = relationship(back_populates="user")

    @property
    def is_active(self):
        """A deactivated user, or any user of a deactivated organization, is signed out
        (the user loader and the policy both check this on every request)."""
        return bool(self.active) and bool(self.organization.is_active)

    @property
    def permissions(self):
        return self.role.permissions

    @property
    def portal(self):
        return self.role.portal

    def has_permission(self, name):
        return name in self.role.permissions

    # Like Role.cached_permissions: set by the signed-in user's loader, gives the seats from the
    # per-organization cache (or None); memberships loaded in this session always win.
    cached_seats = None

    def _places(self):
        """The cached seats, else the memberships: both have department_id, role and is_lead."""
        if self.cached_seats is not None and "memberships" not in self.__dict__:
            cached = self.cached_seats()
            if cached is not None:
                return cached
        return self.memberships

    @property
    def seats(self) -> tuple[Seat, ...]:
        """The user's places in departments, with the departments' names."""
        return tuple(
            p if isinstance(p, Seat) else Seat(p.department_id, p.department.name, p.role, p.is_lead)
            for p in self._places()
        )

    def department_ids(self, role=None, lead_only=False):
        """Departments this user works in, optionally only as manager/agent or as lead."""
        return {
            p.department_id for p in self._places() if (role is None or p.role == role) and (not lead_only or p.is_lead)
        }

    @property
    def staff_department_ids(self):
        """Departments whose tickets this user may see as agent or manager."""
        return self.department_ids()

    @property
    def is_lead(self):
        return any(s.is_lead and s.role == MemberRole.AGENT for s in self._places())

    # The signed-in session this request runs under (services/people/sessions.py sets it); Flask-Login
    # keeps get_id() in the cookie, so the cookie names the session, not only the user.
    current_session = None

    def get_id(self):
        if self.current_session is None:
            return None
        return f"{self.id}:{self.current_session.raw_id}"

    # Flask-Login's UserMixin compares get_id(), which is None for every user but the signed-in
    # one: any two other users were "equal", so `user in selected` was true for everyone (the
    # console's department form showed all staff as managers, agents and leads). A row has one
    # object per session (SQLAlchemy's identity map), so identity is equality, as for every model.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __str__(self):
        return f"{self.name} <{self.email}>"


class UserSession(db.Model):
    """One sign-in: the cookie carries its random id, the database its hash and its life, so a
    session can end on the server (sign-out, sign out everywhere, timeouts) and a copied cookie
    stops working with it."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie's id
    auth_version: Mapped[int] = mapped_column(Integer)  # the user's at sign-in
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    raw_id = None  # the id as the cookie has it, known only in the request that holds it


class PasswordToken(db.Model):
    """A single-use link to set a password: a reset someone asked for, or an invitation to a new
    account. Only the token's hash is kept; it expires, and using it (or a newer one) ends it."""

    __tablename__ = "password_tokens"
    __table_args__ = (Index("ix_password_tokens_user", "user_id", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))  # reset / invite
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app (lost phone); stored hashed."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user", "user_id", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
