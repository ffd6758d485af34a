"""Saved queue views: the agent queue's filters under a name, the agent's own or shared with one
of their departments. Only the filters the queue knows are kept (queues.Filters.parse), so a
saved view can never carry anything else into the queue's URL."""

from urllib.parse import urlencode

from sqlalchemy import or_, select

from autotrack.extensions import db
from autotrack.models import SavedView
from autotrack.services.errors import ValidationError
from autotrack.services.tenancy import get_scoped, parse_id
from autotrack.services.tickets import queues

NAME_MAX = 80


def save(user, name, args, department_id=None):
    """Keep the filters `args` (queues.FilterArgs) asks for as a view named `name`."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError("Give the view a name.", {"name": f"1 to {NAME_MAX} characters."})
    shared_with = parse_id(department_id) if department_id else None
    if department_id and shared_with not in user.staff_department_ids:
        raise ValidationError(
            "You can share a view only with your own departments.", {"department_id": "Not one of your departments."}
        )
    filters = queues.Filters.parse(user, args)
    view = SavedView(
        org_id=user.org_id, owner_id=user.id, department_id=shared_with, name=name, query=urlencode(filters.args)[:1000]
    )
    db.session.add(view)
    db.session.flush()
    return view


def available(user):
    """The user's own views and those shared with their departments, by name."""
    departments = list(user.staff_department_ids) or [0]
    return db.session.scalars(
        select(SavedView)
        .where(
            SavedView.org_id == user.org_id,
            or_(SavedView.owner_id == user.id, SavedView.department_id.in_(departments)),
        )
        .order_by(SavedView.name)
    ).all()


def delete(user, view_id):
    view = get_scoped(SavedView, view_id, user.org_id, SavedView.owner_id == user.id, message="No such view of yours.")
    db.session.delete(view)
    db.session.flush()
