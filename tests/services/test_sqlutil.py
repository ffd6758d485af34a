"""The bulk insert the sweep writes with: values arrive intact, duplicates are skipped and counted."""

from datetime import UTC, datetime

from sqlalchemy import event, select

from autotrack.extensions import db as _db
from autotrack.models import OutboxEmail
from autotrack.services import sqlutil

NOW = datetime(2026, 11, 24, 15, 0, 0, 123456, tzinfo=UTC)
AWKWARD = [
    "it's 100% done",
    "back\\slash",
    'say "hi"',
    "%s %(x)s",
    "emoji 🎉 and ünïcode",
    "line\nbreak",
    "semi; DROP TABLE users; --",
    "",
]


def email(key, subject, context=None):
    return {
        "org_id": None,
        "recipient": "a@example.com",
        "subject": subject,
        "body_text": "b",
        "body_html": None,
        "template": None,
        "context": context,
        "dedupe_key": key,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }


def test_awkward_values_are_stored_exactly(db):
    rows = [email(f"k{i}", text, context=text or None) for i, text in enumerate(AWKWARD)]
    assert sqlutil.bulk_insert(OutboxEmail, rows, ignore_duplicates=True) == len(AWKWARD)
    _db.session.commit()
    stored = _db.session.execute(
        select(OutboxEmail.dedupe_key, OutboxEmail.subject, OutboxEmail.context, OutboxEmail.created_at).order_by(
            OutboxEmail.id
        )
    ).all()
    assert [(s.subject, s.context) for s in stored] == [(text, text or None) for text in AWKWARD]
    assert all(s.created_at == NOW for s in stored)  # microseconds and UTC kept


def test_duplicates_are_skipped_and_not_counted(db):
    assert sqlutil.bulk_insert(OutboxEmail, [email("a", "first"), email("b", "second")], ignore_duplicates=True) == 2
    again = sqlutil.bulk_insert(OutboxEmail, [email("b", "again"), email("c", "third")], ignore_duplicates=True)
    _db.session.commit()
    assert again == 1
    assert _db.session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)).all() == [
        "first",
        "second",
        "third",
    ]


def test_many_rows_split_into_several_statements(db, monkeypatch):
    monkeypatch.setattr(sqlutil, "MAX_STATEMENT_BYTES", 2_000)  # force several statements on MariaDB
    rows = [email(f"key-{i}", f"subject {i} " + "x" * 50) for i in range(300)]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        assert sqlutil.bulk_insert(OutboxEmail, rows, ignore_duplicates=True) == 300
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    _db.session.commit()
    if _db.engine.dialect.name == "sqlite":
        assert len(statements) == 1  # one executemany
    else:  # multi-row INSERTs of at most MAX_STATEMENT_BYTES each
        assert len(statements) > 10 and all(len(sql) <= 2_000 + 200 for sql in statements)
    keys = _db.session.scalars(select(OutboxEmail.dedupe_key)).all()
    assert sorted(keys) == sorted(f"key-{i}" for i in range(300))
