"""Small portable SQL helpers for the two databases we run on (SQLite and MariaDB)."""
from sqlalchemy.dialects import mysql, sqlite

from autotrack.extensions import db


def dialect_name():
    return db.session.get_bind().dialect.name


def insert_ignoring_duplicates(model):
    """INSERT that silently skips rows whose unique key exists already (the exactly-once guard)."""
    table = model.__table__  # a Core insert, so results carry a rowcount
    if dialect_name() == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update(id=statement.table.c.id)  # a no-op update
