"""Column types shared by every model."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator


def utcnow():
    """The current time as an aware UTC datetime; the one clock models and services read."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (both SQLite and MariaDB lack time zones) and returns aware UTC.

    Refuses naive datetimes on the way in, so a local time can never be saved by mistake.
    MariaDB gets microsecond precision; its default DATETIME drops fractions of a second.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Long user text: MariaDB's TEXT holds 64 KiB, too little for 20,000 characters of emoji.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
