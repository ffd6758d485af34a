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
    """Insert many rows (dicts with the same keys) at once; returns the number inserted.

    For the sweep's tens of thousands of rows: values go through each column's own bind
    processor once per distinct value, skipping SQLAlchemy's per-row parameter assembly, which
    costs more than the database's work here.
    """
    if not rows:
        return 0
    table = model.__table__
    connection = db.session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    processors = [_memoized(table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
    converters = [(index, processor) for index, processor in enumerate(processors) if processor]

    def convert(row):
        values = [row[name] for name in names]
        for index, converter in converters:
            values[index] = converter(values[index])
        return values

    if dialect.name in ("mysql", "mariadb") and dialect.driver in _LITERAL_WRITERS:
        return _insert_literal_rows(connection, table, names, map(convert, rows), ignore_duplicates)
    statement = insert_ignoring_duplicates(model) if ignore_duplicates else table.insert()
    compiled = statement.values({name: bindparam(name) for name in names}).compile(dialect=dialect)
    if compiled.positional:
        position = {name: index for index, name in enumerate(names)}
        params = [tuple(values[position[name]] for name in compiled.positiontup) for values in map(convert, rows)]
    else:
        params = [dict(zip(names, values, strict=True)) for values in map(convert, rows)]
    return connection.exec_driver_sql(compiled.string, params).rowcount


MAX_STATEMENT_BYTES = 1_000_000  # well under MariaDB's default max_allowed_packet (16 MB)

# Each MariaDB driver's own escaping of one value as SQL text, what its executemany would send:
# PyMySQL's escape() gives str (its literal() is deprecated); mysqlclient's literal() gives bytes
# in the connection's encoding (its escape() is the bare C function). Another driver takes the
# executemany path above: slower, never wrong.
_LITERAL_WRITERS = {
    "pymysql": lambda raw: raw.escape,
    "mysqldb": lambda raw: lambda value: raw.literal(value).decode(raw.encoding),
}


def _insert_literal_rows(connection, table, names, rows, ignore_duplicates):
    """Multi-row INSERT with the values written as SQL literals by us, each distinct value once.

    PyMySQL's executemany escapes every value of every row in Python (~50 µs per 10-column
    row, measured: 1 s of a 1.2 s insert of 20,000 SLA events); sweep rows repeat most values
    (organization, kind, `now`), so escaping each distinct value once is far cheaper. Values
    are escaped by the driver's own code (_LITERAL_WRITERS); bytes are written as hex, which
    needs no escaping and stays ASCII whatever the connection's encoding. The statement runs
    with no_parameters, so neither driver %-formats it and a '%' in a value stays as it is.
    INSERT IGNORE (see insert_ignoring_duplicates) skips duplicate keys.
    """
    preparer = connection.dialect.identifier_preparer
    prefix = (
        f"INSERT {'IGNORE ' if ignore_duplicates else ''}INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(name) for name in names)}) VALUES "
    )
    escape = _LITERAL_WRITERS[connection.dialect.driver](connection.connection.dbapi_connection)
    literals = {}

    def to_sql(value):
        return f"X'{value.hex()}'" if isinstance(value, bytes | bytearray) else escape(value)

    def literal(value):
        try:
            return literals[value]
        except KeyError:
            literals[value] = text = to_sql(value)
            return text
        except TypeError:  # unhashable
            return to_sql(value)

    def execute(chunk):  # no_parameters for this statement only: the connection is the session's
        statement = prefix + ",".join(chunk)
        return connection.exec_driver_sql(statement, execution_options={"no_parameters": True}).rowcount

    inserted, chunk, size = 0, [], len(prefix)
    for row in rows:
        values = "(" + ",".join(map(literal, row)) + ")"
        if chunk and size + len(values) > MAX_STATEMENT_BYTES:
            inserted += execute(chunk)
            chunk, size = [], len(prefix)
        chunk.append(values)
        size += len(values) + 1
    if chunk:
        inserted += execute(chunk)
    return inserted


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


class seconds_between(FunctionElement):  # lower case: used like a SQL function
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
