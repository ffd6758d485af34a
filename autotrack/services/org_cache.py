"""Per-organization configuration cached in the process, keyed by the organization's settings
token: a role's permissions, a new ticket's defaults, a department's staff, the SLA settings.

models/settings_events.py renews the token in the transaction of any change to what these are
built from, and updates the Organization objects of that session, so a value is never used after
the change that outdated it (other processes see the new token with the next row they read).
Cache plain values (ids, names, frozensets), never ORM objects: those belong to one session.
"""

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Organization

# org_id -> (settings_token, {name: value}): a new token replaces the organization's whole
# dict, so outdated values go at once and never crowd out current ones.
_CACHE = {}
_NAMES_MAX = 50_000  # per organization (a user's seats are one name each)
_ORGS_MAX = 2_000


def token_of(org_id):
    """The organization's current settings token: from its object when the session holds it
    (the request's user loaded it), else one small query."""
    org = db.session.identity_map.get(db.session.identity_key(Organization, org_id))
    if org is not None and "settings_token" in org.__dict__:
        return org.settings_token
    return db.session.scalar(select(Organization.settings_token).where(Organization.id == org_id))


def cached(org_id, name, build, token=None):
    """The cached value `name` of the organization, built by `build()` when the token changed."""
    token = token or token_of(org_id)
    entry = _CACHE.get(org_id)
    if entry is None or entry[0] != token:
        if len(_CACHE) >= _ORGS_MAX:
            _CACHE.pop(next(iter(_CACHE)), None)  # the organization cached longest ago
        entry = _CACHE[org_id] = (token, {})
    values = entry[1]
    try:
        return values[name]
    except KeyError:
        pass
    value = build()
    if len(values) >= _NAMES_MAX:
        values.clear()
    values[name] = value
    return value


def clear():
    """Forget everything (tests that write configuration with raw SQL)."""
    _CACHE.clear()
