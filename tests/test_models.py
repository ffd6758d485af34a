"""Model invariants: UTC timestamps, append-only audit trail, unique keys, schema = migrations."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, StatementError

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, AuditTrailIsAppendOnly, OutboxEmail, Ticket, in_declared_schema
from tests import factories


def test_timestamps_round_trip_as_aware_utc_with_microseconds(org):
    ticket = factories.make_ticket(factories.make_user(org))
    due = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    ticket.resolution_due_at = due
    _db.session.commit()
    _db.session.expire_all()
    stored = _db.session.get(Ticket, ticket.id).resolution_due_at
    assert stored == due and stored.tzinfo == UTC
    assert stored.microsecond == 123456


def test_naive_datetimes_are_refused(org):
    ticket = factories.make_ticket(factories.make_user(org))
    ticket.resolution_due_at = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        _db.session.commit()
    _db.session.rollback()


def test_audit_events_cannot_be_edited_or_deleted(org):
    factories.make_ticket(factories.make_user(org))
    event = _db.session.query(AuditEvent).first()
    event.detail = "rewritten history"
    with pytest.raises(AuditTrailIsAppendOnly):
        _db.session.flush()
    _db.session.rollback()
    _db.session.delete(_db.session.query(AuditEvent).first())
    with pytest.raises(AuditTrailIsAppendOnly):
        _db.session.flush()
    _db.session.rollback()


def test_outbox_dedupe_key_is_unique(org):
    for _ in range(2):
        _db.session.add(
            OutboxEmail(recipient="a@acme.example", subject="s", body_text="b", dedupe_key="escalation:1:1:1")
        )
    with pytest.raises(IntegrityError):
        _db.session.commit()
    _db.session.rollback()


def test_ticket_number_is_unique_within_an_organization(org):
    ticket = factories.make_ticket(factories.make_user(org))
    clone = Ticket(
        org_id=org.id,
        number=ticket.number,
        title="dup",
        requester_id=ticket.requester_id,
        department_id=ticket.department_id,
        priority_id=ticket.priority_id,
        status_id=ticket.status_id,
    )
    _db.session.add(clone)
    with pytest.raises(IntegrityError):
        _db.session.commit()
    _db.session.rollback()


def test_models_and_migrations_agree(db):
    """The schema the migrations built is exactly what the models declare (like `flask db check`)."""
    with _db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": in_declared_schema}
        )
        diff = compare_metadata(context, _db.metadata)
    assert diff == []
