"""The demo reads like a helpdesk that has been running: its history swept, its mail and
most notifications dealt with, its times real (issue 22)."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Notification, OutboxEmail, SlaEvent, Ticket, User
from autotrack.services import notifications, sla
from autotrack.services.org import demo

# A Wednesday late morning in London (business hours); the demo's ten days of history span
# weekends and nights.
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


@pytest.fixture
def seeded(db):
    org = demo.seed_demo(now=NOW)
    _db.session.commit()
    return org


def test_a_sweep_right_after_seeding_has_nothing_left_to_do(seeded):
    # The history's thresholds were swept when they passed, so none is left for "now".
    assert (
        _db.session.scalar(
            select(func.count())
            .select_from(SlaEvent)
            .where(SlaEvent.org_id == seeded.id, SlaEvent.fired_at < NOW - timedelta(hours=1))
        )
        > 0
    )
    result = sla.sweep(NOW)
    assert (result.warned, result.breached, dict(result.escalated), result.emails_queued, result.notifications) == (
        0,
        0,
        {},
        0,
        0,
    )


def test_history_thresholds_are_recorded_when_they_passed(seeded):
    """Each escalation level fired at its moment (to the minute), not all at the seeding time."""
    fired = _db.session.execute(
        select(SlaEvent.kind, SlaEvent.due_at, SlaEvent.fired_at).where(
            SlaEvent.org_id == seeded.id, SlaEvent.kind == "breach"
        )
    ).all()
    assert fired
    for _, due_at, fired_at in fired:
        assert timedelta(0) <= fired_at - due_at < timedelta(minutes=1)


def test_each_person_has_at_most_five_unread_notifications_the_newest(seeded):
    unread = Counter(
        _db.session.scalars(
            select(Notification.user_id).where(Notification.org_id == seeded.id, Notification.read_at.is_(None))
        )
    )
    assert unread and max(unread.values()) <= demo.UNREAD_PER_PERSON
    agent = _db.session.scalar(select(User).where(User.email == "agent@acme.example"))
    assert notifications.unread_count(agent) <= 5
    rows = _db.session.scalars(select(Notification).where(Notification.user_id == agent.id)).all()
    newest = sorted(rows, key=lambda n: n.created_at, reverse=True)
    assert [n.read_at is None for n in newest] == [n in newest[: unread[agent.id]] for n in newest]


def test_the_notification_list_is_newest_first(seeded):
    for email in ("agent@acme.example", "lead@acme.example", "employee@acme.example"):
        user = _db.session.scalar(select(User).where(User.email == email))
        items, _ = notifications.page_for(user, per_page=500)
        assert len(items) > 5
        times = [n.created_at for n in items]
        assert times == sorted(times, reverse=True), email


def test_updated_is_the_last_real_event_not_the_seeding_time(seeded):
    tickets = _db.session.scalars(select(Ticket).where(Ticket.org_id == seeded.id)).all()
    assert len(tickets) == 50
    for ticket in tickets:
        last_by_a_person = _db.session.scalar(
            select(func.max(AuditEvent.created_at)).where(
                AuditEvent.ticket_id == ticket.id, AuditEvent.actor_id.is_not(None)
            )
        )
        assert ticket.updated_at == last_by_a_person, ticket.reference
        assert ticket.updated_at < NOW


def test_history_mail_counts_as_delivered_and_a_later_sweep_still_escalates(seeded):
    pending = _db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.org_id == seeded.id, OutboxEmail.status == "pending")
    ).all()
    assert all(row.next_attempt_at >= NOW - demo.MAIL_PENDING_FOR for row in pending)
    assert len(pending) <= 5
    assert (
        _db.session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.org_id == seeded.id, OutboxEmail.status == "sent")
        )
        > 0
    )
    # What CI does next: a sweep a month on still finds a ticket to escalate, and mails it.
    later = sla.sweep(NOW + timedelta(days=30))
    assert later.escalated.get(1, 0) >= 1 and later.emails_queued > 0
