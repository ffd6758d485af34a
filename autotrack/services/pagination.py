"""Keyset pagination: pages stay fast and stable at a million rows, unlike OFFSET."""

from autotrack.extensions import db
from autotrack.services.tenancy import parse_id


def keyset_page(query, key_column, cursor=None, per_page=50):
    """One page of `query` ordered by `key_column` descending, starting after `cursor`.

    Returns (items, next_cursor); next_cursor is None on the last page.
    """
    cursor = parse_id(cursor) if cursor not in (None, "") else None
    if cursor is not None:  # a mangled cursor shows the first page rather than an error
        query = query.where(key_column < cursor)
    rows = db.session.scalars(query.order_by(key_column.desc()).limit(per_page + 1)).all()
    items = rows[:per_page]
    next_cursor = getattr(items[-1], key_column.key) if len(rows) > per_page else None
    return items, next_cursor
