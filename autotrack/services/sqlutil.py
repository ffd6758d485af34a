"""Small portable SQL helpers for the two databases we run on (SQLite and MariaDB)."""
from sqlalchemy import Float, bindparam
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from autotrack.extensions import db


def dialect_name():
    return db.session.get_bind().dialect.name


def insert_ignoring_duplicates(model):
    """INSERT that silently skips rows whose unique key exists already (the exactly-once guard)."""
    table = model.__table__  # a Core insert, so results carry a rowcount
    if dialect_name() == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    # INSERT IGNORE, not ON DUPLICATE KEY UPDATE: SQLAlchemy connects with FOUND_ROWS, which
    # would count a skipped duplicate as a written row. Callers validate values beforehand.
    return mysql.insert(table).prefix_with("IGNORE")


def bulk_insert(model, rows, ignore_duplicates=False):
    """Insert many rows (dicts with the same keys) with one executemany; returns the row count.

    For the sweep's tens of thousands of rows: values go through each column's own bind
    processor once, but skip SQLAlchemy's per-row parameter assembly, which costs more than
    the database's work here.
    """
    if not rows:
        return 0
    table = model.__table__
    connection = db.session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    statement = insert_ignoring_duplicates(model) if ignore_duplicates else table.insert()
    compiled = statement.values({name: bindparam(name) for name in names}).compile(dialect=dialect)
    order = compiled.positiontup if compiled.positional else names
    converters = [(index, converter) for index, name in enumerate(order)
                  if (converter := _memoized(table.c[name].type.dialect_impl(dialect).bind_processor(dialect)))]

    def convert(row):
        values = [row[name] for name in order]
        for index, converter in converters:
            values[index] = converter(values[index])
        return tuple(values) if compiled.positional else dict(zip(order, values, strict=True))

    result = connection.exec_driver_sql(compiled.string, [convert(row) for row in rows])
    return result.rowcount


def _memoized(processor):
    """A bind processor that converts each distinct value once (a sweep stamps thousands of
    rows with the same `now`)."""
    if processor is None:
        return None
    seen = {}

    def process(value):
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = processor(value)
            return converted
        except TypeError:  # unhashable
            return processor(value)
    return process


class seconds_between(FunctionElement):  # noqa: N801 (used like a SQL function)
    """SQL for the seconds from one timestamp column to another, in each database's dialect."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_default(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "mysql")
@compiles(seconds_between, "mariadb")
def _seconds_between_mysql(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"TIMESTAMPDIFF(SECOND, {start}, {end})"
