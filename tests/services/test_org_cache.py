"""The per-organization cache's key (services/org_cache.py, models/settings_events.py): every
change to what the request path caches renews the organization's settings token in the same
transaction, the session's own Organization object included; sign-ins and ticket work do not."""

from datetime import UTC, datetime

from sqlalchemy import select, update

from autotrack.extensions import db as _db
from autotrack.models import Organization, Role
from autotrack.services import org_cache
from autotrack.services.org import orgs
from autotrack.services.people import accounts
from tests import factories

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def stored_token(org):
    return _db.session.scalar(select(Organization.settings_token).where(Organization.id == org.id))


def renews(org, change):
    before = stored_token(org)
    change()
    _db.session.flush()
    after = stored_token(org)
    assert org.settings_token == after  # the session's object follows, for reads later in the transaction
    _db.session.commit()
    return after != before


def test_configuration_changes_renew_the_token(org):
    role = _db.session.scalar(select(Role).where(Role.org_id == org.id, Role.builtin == "agent"))
    assert renews(org, lambda: role.set_permissions(role.permissions - {"ticket.assign"}))
    assert renews(org, lambda: setattr(factories.priority(org, "P4"), "is_default", True))
    assert renews(org, lambda: orgs.create_department(org, "Facilities"))
    agent = factories.make_user(org, "agent")
    _db.session.commit()
    assert renews(org, lambda: setattr(agent, "active", False))


def test_other_organizations_keep_their_token(org, other_org):
    before = stored_token(other_org)
    assert renews(org, lambda: orgs.create_department(org, "Facilities"))
    assert stored_token(other_org) == before


def test_sign_ins_and_tickets_do_not_renew_it(org):
    user = factories.make_user(org, "employee")
    _db.session.commit()
    assert not renews(org, lambda: accounts.authenticate(user.email, "wrong password", now=NOW, channel="web"))
    assert not renews(org, lambda: factories.make_ticket(user))
    assert not renews(org, lambda: setattr(user, "name", "Renamed"))


def test_a_bulk_update_of_a_role_renews_every_token(org, other_org):
    before = stored_token(other_org)
    _db.session.execute(update(Role).where(Role.org_id == org.id).values(description="x"))
    _db.session.commit()
    assert stored_token(other_org) != before


def test_the_cache_builds_once_per_token(org):
    built = []

    def build():
        built.append(1)
        return len(built)

    assert org_cache.cached(org.id, "test", build) == 1
    assert org_cache.cached(org.id, "test", build) == 1
    orgs.create_department(org, "Facilities")
    _db.session.flush()
    assert org_cache.cached(org.id, "test", build) == 2  # seen inside the same transaction


def test_a_full_cache_keeps_what_was_just_built(org, other_org):
    for i in range(org_cache._ORGS_MAX + 5):  # many organizations' entries (ids no row has)
        org_cache.cached(10_000_000 + i, "test", lambda: 0, token="t")
    org_cache.cached(org.id, "kept", lambda: "value")
    assert org_cache.cached(org.id, "kept", lambda: "rebuilt") == "value"
    assert org_cache.cached(other_org.id, "x", lambda: 1) == 1
    assert org_cache.cached(org.id, "kept", lambda: "rebuilt") == "value"
