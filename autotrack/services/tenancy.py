"""The one way to read organization data: every query is scoped to an organization.

Another organization's object is indistinguishable from a missing one (NotFound -> 404).
"""

import re

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Organization, Ticket
from autotrack.services import policy
from autotrack.services.errors import NotFound

MAX_ID = 2**31 - 1  # INT columns; larger numbers cannot name a row (and overflow SQLite)


def parse_id(value):
    """A row id from untrusted input, or None when it cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def scoped(model, org_id):
    """SELECT of `model` limited to one organization."""
    return select(model).where(model.org_id == org_id)


def find_scoped(model, ident, org_id, *where):
    """The object of this organization whose id `ident` (untrusted input: a form, the URL, a
    header) names and which meets the extra conditions `where`, or None. Every id that comes
    from outside is resolved here (tests/test_one_place.py keeps it so)."""
    ident = parse_id(ident)
    if ident is None:
        return None
    return db.session.scalar(scoped(model, org_id).where(model.id == ident, *where))


def get_scoped(model, ident, org_id, *where, message="Not found."):
    """Like find_scoped, but NotFound (with `message`) when there is no such object."""
    obj = find_scoped(model, ident, org_id, *where)
    if obj is None:
        raise NotFound(message)
    return obj


def get_scoped_optional(model, ident, org_id):
    """Like get_scoped, but an empty value means None (for optional form and API fields)."""
    if ident in (None, ""):
        return None
    return get_scoped(model, ident, org_id)


def org_by_slug(slug):
    org = db.session.scalar(select(Organization).where(Organization.slug == (slug or "").lower()))
    if org is None:
        raise NotFound(f"No organization {slug!r}.")
    return org


def visible_tickets(user):
    """SELECT of the tickets `user` may see: their own, those they are copied on, their
    departments', or the whole org."""
    query = scoped(Ticket, user.org_id)
    may_see = policy.may_see_clause(user)  # the policy's rule, as SQL
    return query if may_see is None else query.where(may_see)


_REFERENCE = re.compile(r"^(?:(?P<prefix>[A-Za-z0-9]+)-)?(?P<number>\d{1,9})$")


def ticket_for(user, reference):
    """The ticket `user` may see by its reference (`ACME-1042` or `1042`), or NotFound."""
    match = _REFERENCE.match(str(reference).strip())
    if not match:
        raise NotFound()
    prefix = match["prefix"]
    if prefix and prefix.upper() != user.organization.ticket_prefix.upper():
        raise NotFound()
    ticket = db.session.scalar(visible_tickets(user).where(Ticket.number == int(match["number"])))
    for _ in range(10):  # a merged duplicate's number leads to the ticket it was merged into
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = db.session.scalar(visible_tickets(user).where(Ticket.id == ticket.merged_into_id))
    if ticket is None:
        raise NotFound()
    return ticket
