"""The user a request runs as (bearer token or session cookie), loaded in one SELECT.

The user comes with their organization and role, and only the columns a request reads (not the
TOTP secret nor the sign-in counters); the role's permissions and the user's department seats
come from the per-organization cache (services/org_cache.py), keyed by the settings token that
same SELECT read, so the policy's checks need no further statement. Changing permissions,
memberships or departments renews the token (models/settings_events.py): the next request
rebuilds them.
"""

from functools import cache, partial

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, load_only

from autotrack.extensions import db
from autotrack.models import Department, DepartmentMember, Organization, Role, RolePermission, User
from autotrack.models.user import Seat
from autotrack.services import org_cache

# What a request reads of its user, organization and role; other columns load on first use, as
# any deferred column (one statement each: the sign-in counters, the TOTP secret, org settings).
_USER_COLUMNS = (
    User.org_id,
    User.email,
    User.name,
    User.password_hash,  # API tokens carry its fingerprint
    User.role_id,
    User.department_id,
    User.active,
    User.auth_version,
    User.totp_enabled_at,  # the web asks it of admins whose organization requires two factors
)
_ORG_COLUMNS = (
    Organization.name,
    Organization.slug,
    Organization.ticket_prefix,
    Organization.timezone,
    Organization.is_active,
    Organization.require_2fa_for_admins,
    Organization.settings_token,
)
_ROLE_COLUMNS = (Role.org_id, Role.name, Role.builtin, Role.portal)


def options():
    """The loader options for a statement selecting the signed-in User (sessions.load joins it
    to the session's row)."""
    return (
        load_only(*_USER_COLUMNS),
        joinedload(User.organization, innerjoin=True).load_only(*_ORG_COLUMNS),
        joinedload(User.role, innerjoin=True).load_only(*_ROLE_COLUMNS).lazyload(Role.permission_rows),
    )


@cache
def _by_id():
    # Built once: building the loader options took longer than running the statement.
    return select(User).where(User.id == bindparam("user_id")).options(*options())


def load(user_id):
    """The user with this id (active or not: the caller checks), or None."""
    user = db.session.scalar(_by_id(), {"user_id": user_id})
    if user is not None:
        attach_caches(user)
    return user


def attach_caches(user):
    """Let the user's role answer its permissions, and the user their seats, from the cache."""
    # The organization's object carries the current token: settings_events renews it in place.
    org, org_id, role_id, user_id = user.organization, user.org_id, user.role_id, user.id

    def permissions():
        if not _clean():
            return None
        build = partial(_permissions_of, role_id)
        return org_cache.cached(org_id, ("role permissions", role_id), build, token=org.settings_token)

    def seats():
        if not _clean():
            return None
        return org_cache.cached(org_id, ("seats", user_id), partial(_seats_of, user_id), token=org.settings_token)

    user.role.cached_permissions = permissions
    user.cached_seats = seats
    # Built now if the token changed, so the statements it takes count as signing in, not as
    # whatever the request asks first.
    permissions()
    seats()


def _clean():
    """Whether the session holds no unflushed change: a pending membership or permission row is
    not in the cache yet (its flush renews the token), and reading the rows flushes it first."""
    session = db.session()
    return not (session.new or session.deleted or session.dirty)


def _permissions_of(role_id):
    return frozenset(db.session.scalars(select(RolePermission.permission).where(RolePermission.role_id == role_id)))


def _seats_of(user_id):
    rows = db.session.execute(
        select(DepartmentMember.department_id, Department.name, DepartmentMember.role, DepartmentMember.is_lead)
        .join(Department, Department.id == DepartmentMember.department_id)
        .where(DepartmentMember.user_id == user_id)
        .order_by(DepartmentMember.id)
    )
    return tuple(Seat(*row) for row in rows)
