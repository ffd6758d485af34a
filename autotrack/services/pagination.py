"""Keyset pagination: pages stay fast and stable at a million rows, unlike OFFSET."""
from autotrack.extensions import db


def keyset_page(query, key_column, cursor=None, per_page=50):
    """One page of `query` ordered by `key_column` descending, starting after `cursor`.

    Returns (items, next_cursor); next_cursor is None on the last page.
    """
    if cursor not in (None, ""):
        try:
            query = query.where(key_column < int(cursor))
        except (TypeError, ValueError):
            pass  # a mangled cursor shows the first page rather than an error
    rows = db.session.scalars(query.order_by(key_column.desc()).limit(per_page + 1)).all()
    items = rows[:per_page]
    next_cursor = getattr(items[-1], key_column.key) if len(rows) > per_page else None
    return items, next_cursor
