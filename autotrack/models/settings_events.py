"""Renew an organization's settings token (Organization.settings_token) in the transaction of
any change to its SLA settings, so services/sla/settings.py's cache of them is never used stale.

Every write path is covered: objects changed through the ORM (console, CSV import, services)
are seen at flush; ORM bulk statements (session.execute(update(Holiday)...)) renew every
organization's token, since their rows are not known. Raw SQL text is not seen: do not write
these tables that way.
"""

import secrets

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from autotrack.models.org import BusinessCalendar, EscalationRule, Holiday, Organization, WorkingHours

# What an organization's SLA settings are (beside its priorities' targets): the one list that
# both this cache token and the recompute of due dates (services/sla/changes.py) watch.
SLA_SETTING_MODELS = (BusinessCalendar, WorkingHours, Holiday, EscalationRule)
SLA_ORGANIZATION_FIELDS = ("timezone", "sla_warning_percent")
_WATCHED = SLA_SETTING_MODELS
_ORG_FIELDS = SLA_ORGANIZATION_FIELDS
_ORGS = Organization.__table__


def _renew(connection, org_ids=None):
    statement = update(_ORGS).values(settings_token=secrets.token_hex(8))
    if org_ids is not None:
        statement = statement.where(_ORGS.c.id.in_(org_ids))
    connection.execute(statement)


@event.listens_for(Session, "after_flush")
def _settings_changed_at_flush(session, _flush_context):
    org_ids, calendar_ids = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WorkingHours):
            calendar_ids.add(obj.calendar_id)
        elif isinstance(obj, _WATCHED):
            org_ids.add(obj.org_id)
        elif isinstance(obj, Organization) and obj not in session.new:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _ORG_FIELDS):
                org_ids.add(obj.id)
    connection = session.connection()
    if calendar_ids:
        table = BusinessCalendar.__table__
        org_ids.update(connection.execute(select(table.c.org_id).where(table.c.id.in_(calendar_ids))).scalars())
    org_ids.discard(None)
    if org_ids:
        _renew(connection, org_ids)


@event.listens_for(Session, "do_orm_execute")
def _settings_changed_in_bulk(state):
    if (
        (state.is_update or state.is_delete or state.is_insert)
        and state.bind_mapper is not None
        and state.bind_mapper.class_ in _WATCHED
    ):
        _renew(state.session.connection())
