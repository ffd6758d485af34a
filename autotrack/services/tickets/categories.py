"""The category tree: at most three levels, paths kept in step with names and parents."""

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Category
from autotrack.services import org_cache
from autotrack.services.errors import ValidationError


def place(category):
    """Validate a new or changed node and recompute its path and depth (and its descendants').

    Flushes nothing itself: the caller's commit stores the whole subtree at once.
    """
    name = (category.name or "").strip()
    if not name or "/" in name:
        raise ValidationError("A category needs a name without '/'.", {"name": "Invalid name."})
    category.name = name
    parent = category.parent
    if parent is not None and parent.org_id != category.org_id:
        raise ValidationError("Unknown parent category.", {"parent": "Unknown category."})
    ancestor = parent
    while ancestor is not None:
        if ancestor is category:
            raise ValidationError("A category cannot sit inside itself.", {"parent": "Choose another parent."})
        ancestor = ancestor.parent
    depth = 1 if parent is None else parent.depth + 1
    if depth + _height(category) - 1 > Category.MAX_DEPTH:
        raise ValidationError(f"Categories go at most {Category.MAX_DEPTH} levels deep.", {"parent": "Too deep."})
    _set_path(category, parent)


def _height(category):
    """Levels from this node down to its deepest descendant (1 for a leaf)."""
    if category.id is None:
        return 1
    with db.session.no_autoflush:
        children = db.session.scalars(select(Category).where(Category.parent_id == category.id)).all()
    return 1 + max((_height(child) for child in children), default=0)


def _set_path(category, parent):
    category.depth = 1 if parent is None else parent.depth + 1
    category.path = category.name if parent is None else f"{parent.path}/{category.name}"
    if category.id is not None:
        with db.session.no_autoflush:
            children = db.session.scalars(select(Category).where(Category.parent_id == category.id)).all()
        for child in children:
            _set_path(child, category)


# --- which categories a person may raise tickets in ---------------------------------------------


def allowed_roots(user):
    """Ids of the top-level categories `user` may choose, or None for all: their role's list and
    their department's list (an employee's own department), each applying when it lists any.
    Cached per role and department behind the settings token (a change to either list renews it)."""
    return org_cache.cached(
        user.org_id, f"allowed_roots:{user.role_id}:{user.department_id}", lambda: _allowed_roots(user)
    )


def _allowed_roots(user):
    limits = []
    with db.session.no_autoflush:
        role_ids = {c.id for c in user.role.categories} if user.role is not None else set()
        department = user.department
        department_ids = {c.id for c in department.categories} if department is not None else set()
    for ids in (role_ids, department_ids):
        if ids:
            limits.append(ids)
    if not limits:
        return None
    allowed = limits[0]
    for ids in limits[1:]:
        allowed = allowed & ids
    return frozenset(allowed)


def root_of(category):
    return list(category.lineage())[-1]


def may_choose(user, category):
    allowed = allowed_roots(user)
    return allowed is None or root_of(category).id in allowed


def check_choosable(user, category):
    """Refuse a category `user`'s role or department may not raise tickets in (staff raising a
    ticket for someone choose as themselves)."""
    if category is not None and not may_choose(user, category):
        raise ValidationError(
            "You may not raise tickets in that category.",
            {"category": "Not available to you; choose another category."},
        )
