"""What a new ticket starts from, read without a query on the request path: the organization's
default priority, department and status, a category's routing, a department's staff.

Each is cached per organization and settings token (services/org_cache.py: any change to these
renews the token in its own transaction) as plain column values, and handed out as the
session's object: the one it holds already, else one built from the values as if just loaded,
so the ticket's relations (and the API's answer) resolve from the session with no SELECT.
"""

from sqlalchemy import inspect, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from autotrack.extensions import db
from autotrack.models import Category, Department, DepartmentMember, MemberRole, Priority, Status, User
from autotrack.services import org_cache


def _values(obj):
    return None if obj is None else {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


def _in_session(model, values):
    """The session's `model` object for a cached row: its own when it holds one, else a
    persistent object built from the values (nothing to load, nothing to flush)."""
    if values is None:
        return None
    obj = db.session.identity_map.get(db.session.identity_key(model, values["id"]))
    if obj is None:
        obj = model(**values)
        make_transient_to_detached(obj)  # as if loaded: no history, so never written back
        db.session.add(obj)
    return obj


def _first(query):
    return _values(db.session.scalar(query.limit(1)))


def default_of(model, org_id):
    """The organization's default priority or department (lowest id among the defaults)."""
    return _in_session(
        model,
        org_cache.cached(
            org_id,
            f"default:{model.__tablename__}",
            lambda: _first(select(model).where(model.org_id == org_id, model.is_default.is_(True)).order_by(model.id)),
        ),
    )


def status_for(org_id, lifecycle_category):
    """The status a ticket lands on when it enters `lifecycle_category` (None: the organization has none)."""
    return _in_session(
        Status,
        org_cache.cached(
            org_id,
            f"status:{lifecycle_category}",
            lambda: _first(
                select(Status)
                .where(Status.org_id == org_id, Status.category == lifecycle_category)
                .order_by(Status.is_default.desc(), Status.position, Status.id)
            ),
        ),
    )


def staff_ids(org_id, department_id, role=MemberRole.AGENT):
    """Ids of the department's active members in `role` (who hears of its new tickets)."""

    def build():
        return tuple(
            db.session.scalars(
                select(DepartmentMember.user_id)
                .join(User, User.id == DepartmentMember.user_id)
                .where(
                    DepartmentMember.department_id == department_id,
                    DepartmentMember.role == role,
                    User.active.is_(True),
                )
                .order_by(DepartmentMember.user_id)
            )
        )

    return org_cache.cached(org_id, f"staff:{department_id}:{role}", build)


def category(org_id, category_id):
    """The organization's category `category_id` with its ancestors and their default priority
    and department in the session (what routing a new ticket reads), or None when it has none."""

    def build():
        node = db.session.scalar(select(Category).where(Category.id == category_id, Category.org_id == org_id))
        if node is None:
            return None
        lineage = list(node.lineage())
        return (
            tuple(_values(c) for c in lineage),
            tuple(_values(c.default_priority) for c in lineage if c.default_priority is not None),
            tuple(_values(c.default_department) for c in lineage if c.default_department is not None),
        )

    cached = org_cache.cached(org_id, f"category:{category_id}", build)
    if cached is None:
        return None
    lineage, priorities, departments = cached
    priorities = {values["id"]: _in_session(Priority, values) for values in priorities}
    departments = {values["id"]: _in_session(Department, values) for values in departments}
    parent = None
    for values in reversed(lineage):  # root first
        node = _in_session(Category, values)
        # Wired as loaded: the session holds its objects weakly, so the ticket's category
        # keeps its ancestors and their defaults for as long as the ticket is used.
        set_committed_value(node, "parent", parent)
        set_committed_value(node, "default_priority", priorities.get(values["default_priority_id"]))
        set_committed_value(node, "default_department", departments.get(values["default_department_id"]))
        parent = node
    return parent
