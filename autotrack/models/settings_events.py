"""Renew an organization's settings token (Organization.settings_token) in the transaction of
any change to its configuration, so the caches keyed by it (services/org_cache.py: SLA settings,
role permissions, default priority/department/status, department staff) are never used stale.

Every write path is covered: objects changed through the ORM (console, CSV import, services)
are seen at flush; ORM bulk statements (session.execute(update(Holiday)...)) renew every
organization's token, since their rows are not known. Raw SQL text is not seen: do not write
these tables that way, nor change a user's active flag, role or organization in a bulk UPDATE
(sign-in's attempt counters are bulk UPDATEs of users: watching those would renew every
token at every sign-in). Organization objects already loaded in the session get the new token
too, so a cache read later in the same transaction sees the change.
"""

import secrets

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from autotrack.models.org import (
    BusinessCalendar,
    Category,
    Department,
    DepartmentMember,
    EscalationRule,
    Holiday,
    Organization,
    Priority,
    Status,
    WorkingHours,
)
from autotrack.models.user import Role, RolePermission, User

# What an organization's SLA settings are (beside its priorities' targets): the one list that
# both this cache token and the recompute of due dates (services/sla/changes.py) watch.
SLA_SETTING_MODELS = (BusinessCalendar, WorkingHours, Holiday, EscalationRule)
SLA_ORGANIZATION_FIELDS = ("timezone", "sla_warning_percent")
# Everything else the request path caches per organization: roles and their permissions, the
# defaults a new ticket takes, who staffs which department.
CONFIGURATION_MODELS = (*SLA_SETTING_MODELS, Role, Priority, Department, Status, Category, DepartmentMember)
_ORG_FIELDS = (*SLA_ORGANIZATION_FIELDS, "is_active", "slug", "name")
_USER_FIELDS = ("active", "role_id", "org_id")  # an active agent's membership is department staff
_ORGS = Organization.__table__


def _renew(session, connection, org_ids=None):
    token = secrets.token_hex(8)
    statement = update(_ORGS).values(settings_token=token)
    if org_ids is not None:
        statement = statement.where(_ORGS.c.id.in_(org_ids))
    connection.execute(statement)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Organization) and (org_ids is None or obj.id in org_ids):
            set_committed_value(obj, "settings_token", token)


def _changed(obj, fields):
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "after_flush")
def _settings_changed_at_flush(session, _flush_context):
    org_ids, calendar_ids, role_ids = set(), set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WorkingHours):
            calendar_ids.add(obj.calendar_id)
        elif isinstance(obj, RolePermission):
            role_ids.add(obj.role_id)
        elif isinstance(obj, CONFIGURATION_MODELS):
            org_ids.add(obj.org_id)
        elif isinstance(obj, User) and obj not in session.new and _changed(obj, _USER_FIELDS):
            org_ids.add(obj.org_id)
            org_ids.update(inspect(obj).attrs.org_id.history.deleted or ())
        elif isinstance(obj, Organization) and obj not in session.new and _changed(obj, _ORG_FIELDS):
            org_ids.add(obj.id)
    connection = session.connection()
    if calendar_ids:
        table = BusinessCalendar.__table__
        org_ids.update(connection.execute(select(table.c.org_id).where(table.c.id.in_(calendar_ids))).scalars())
    if role_ids:
        table = Role.__table__
        org_ids.update(connection.execute(select(table.c.org_id).where(table.c.id.in_(role_ids))).scalars())
    org_ids.discard(None)
    if org_ids:
        _renew(session, connection, org_ids)


@event.listens_for(Session, "do_orm_execute")
def _settings_changed_in_bulk(state):
    if (
        (state.is_update or state.is_delete or state.is_insert)
        and state.bind_mapper is not None
        and state.bind_mapper.class_ in (*CONFIGURATION_MODELS, RolePermission)
    ):
        _renew(state.session, state.session.connection())
