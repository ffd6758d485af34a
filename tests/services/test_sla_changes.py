"""Configuration changes propagate: the next sweep recomputes the due times of the affected open
tickets (time already counted kept, a pending ticket frozen at its pause), writes an audit event
per ticket that moved, and never fires anything twice."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, BusinessCalendar, EscalationRule, Holiday, SlaEvent, SlaRecompute
from autotrack.services import sla, tickets
from autotrack.services.org import imports
from autotrack.services.sla import timeline as sla_timeline
from autotrack.services.sla.business_calendar import business_calendar
from tests import factories
from tests.helpers import MIN, T0, run_concurrently, sweep

TUESDAY = date(2026, 11, 24)


def add_holiday(org, day=TUESDAY, name="Company day"):
    calendar = _db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.org_id == org.id))
    _db.session.add(Holiday(org_id=org.id, calendar_id=calendar.id, date=day, name=name))
    _db.session.commit()


def recompute_audits(ticket):
    return _db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "sla_recompute")
    ).all()


def p3_ticket(team, at=T0):
    """P3 on business hours (Mon-Fri 09-17 UTC): first response 4 h, resolution 24 working hours."""
    ticket = tickets.create_ticket(team["employee"], title="Badge reader", now=at)
    _db.session.commit()
    return ticket


def test_a_new_holiday_moves_what_it_covers_and_nothing_else(org, team):
    ticket = p3_ticket(team)
    assert ticket.first_response_due_at == T0 + 4 * 60 * MIN  # Monday 14:00
    assert ticket.resolution_due_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday 10:00
    add_holiday(org)
    result = sweep(T0 + 60 * MIN)
    assert result.recomputed == 1
    _db.session.refresh(ticket)
    assert ticket.first_response_due_at == T0 + 4 * 60 * MIN  # still Monday: the holiday is after it
    assert ticket.resolution_due_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a working day later
    assert business_calendar(org.id).between(T0 + 60 * MIN, ticket.resolution_due_at) == timedelta(hours=23)
    (detail,) = recompute_audits(ticket)
    assert detail.startswith("holidays changed: resolution due Thu 26 Nov 2026 10:00")
    line = sla_timeline.timeline(ticket, now=T0 + 60 * MIN)
    assert line.explained  # the recompute step explains the new due time; the first step is history
    resolution = next(c for c in line.clocks if c.clock == "resolution")
    assert [s.kind for s in resolution.steps] == ["start", "recompute"]
    assert resolution.steps[-1].arithmetic.startswith("23 hours of business time from Mon 23 Nov 11:00")
    assert sweep(T0 + 61 * MIN).recomputed == 0  # done once


def test_a_pending_ticket_stays_frozen_at_its_pause(org, team):
    ticket = p3_ticket(team)
    tickets.assign(team["agent"], ticket, team["agent"], now=T0)
    tickets.add_comment(team["agent"], ticket, "Which door?", now=T0 + 30 * MIN)
    tickets.transition(team["agent"], ticket, "wait", now=T0 + 60 * MIN)
    _db.session.commit()
    add_holiday(org)
    sweep(T0 + 5 * 60 * MIN)
    _db.session.refresh(ticket)
    # 1 working hour counted at the pause; 23 left from the pause, skipping Tuesday.
    assert business_calendar(org.id).between(ticket.paused_at, ticket.resolution_due_at) == timedelta(hours=23)
    assert ticket.resolution_due_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_a_shorter_target_moves_that_prioritys_tickets_and_breaches_once(org, team):
    ticket = p3_ticket(team)
    other = tickets.create_ticket(
        team["agent"], title="Other", priority=factories.priority(org, "P4"), requester=team["employee"], now=T0
    )
    _db.session.commit()
    other_due = other.first_response_due_at
    p3 = factories.priority(org, "P3")
    p3.first_response_minutes = 60
    _db.session.commit()
    result = sweep(T0 + 90 * MIN)
    assert result.recomputed == 1 and result.breached == 1  # recomputed first, then evaluated: due 11:00
    _db.session.refresh(ticket)
    _db.session.refresh(other)
    assert ticket.first_response_due_at == T0 + 60 * MIN and other.first_response_due_at == other_due
    assert recompute_audits(other) == []
    # Longer again: the breach happened, so the deadline it passed stays where it was, breached once.
    p3.first_response_minutes = 480
    _db.session.commit()
    assert sweep(T0 + 100 * MIN).breached == 0
    _db.session.refresh(ticket)
    assert ticket.first_response_due_at == T0 + 60 * MIN
    assert ticket.first_response_breached_at == T0 + 60 * MIN
    assert sla.status_of(ticket, T0 + 100 * MIN).words == "first response overdue by 40 minutes"
    assert (
        _db.session.scalar(
            select(func.count()).select_from(SlaEvent).where(SlaEvent.ticket_id == ticket.id, SlaEvent.kind == "breach")
        )
        == 1
    )


def test_a_change_that_moves_nothing_writes_nothing(org, team):
    ticket = p3_ticket(team)
    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 2))
    rule.delay_minutes = 90
    _db.session.commit()
    assert sweep(T0 + MIN).recomputed == 0
    assert recompute_audits(ticket) == []
    (request,) = _db.session.scalars(select(SlaRecompute)).all()
    assert request.done_at is not None and request.reason == "escalation rules changed"


def test_a_deactivated_rule_sends_no_more_notices(org, team):
    p1 = factories.priority(org, "P1")  # 24x7, first response 15 minutes
    ticket = tickets.create_ticket(team["agent"], title="Down", priority=p1, requester=team["employee"], now=T0)
    _db.session.commit()
    assert dict(sweep(T0 + 16 * MIN).escalated) == {1: 1}
    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 2))
    rule.is_active = False
    _db.session.commit()
    assert dict(sweep(T0 + 5 * 60 * MIN).escalated) == {3: 1}  # level 2 skipped, level 3 still comes
    _db.session.refresh(ticket)
    assert ticket.escalation_level == 3


def test_several_changes_before_a_sweep_are_one_request_measured_from_the_first(org, team):
    ticket = p3_ticket(team)
    report = imports.run(org, "holidays", b"date,name\r\n2026-11-24,Company day\r\n2026-11-25,Bridge day\r\n")
    assert report.ok
    _db.session.commit()
    p3 = factories.priority(org, "P3")
    p3.resolution_minutes = 1500
    _db.session.commit()
    assert _db.session.scalar(select(func.count()).select_from(SlaRecompute)) == 1
    sweep(T0 + 60 * MIN)
    _db.session.refresh(ticket)
    # 1 hour counted of the new 25; 24 working hours left from Monday 11:00, skipping Tuesday and Wednesday.
    assert business_calendar(org.id).between(T0 + 60 * MIN, ticket.resolution_due_at) == timedelta(hours=24)
    assert ticket.resolution_due_at == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)


def test_two_sweeps_at_once_recompute_each_ticket_once(app, org, team):
    made = [p3_ticket(team) for _ in range(5)]
    add_holiday(org)
    results = run_concurrently(app, lambda: sla.sweep(T0 + 60 * MIN), 2)
    assert sum(r.recomputed for r in results) == 5
    for ticket in made:
        assert len(recompute_audits(ticket)) == 1


# --- a change of settings rewrites the future, not what happened ----------------------------------

FRIDAY_0900 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TUESDAY_1700 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 24 working hours after FRIDAY_0900
WEDNESDAY_1200 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def page(client, path):
    return client.get(path).get_data(as_text=True)


def test_an_unrelated_holiday_leaves_breached_tickets_and_their_updated_time_alone(client, org, team):
    ticket = p3_ticket(team, at=FRIDAY_0900)
    assert ticket.resolution_due_at == TUESDAY_1700  # the end of a working day, as ACME-1012's
    assert sweep(WEDNESDAY_1200).breached == 2  # first response (Fri 13:00) and resolution
    _db.session.refresh(ticket)
    before = (
        ticket.first_response_due_at,
        ticket.resolution_due_at,
        ticket.first_response_breached_at,
        ticket.resolution_breached_at,
        ticket.updated_at,
        ticket.sla_next_check_at,
    )
    assert before[4] == FRIDAY_0900

    add_holiday(org, date(2026, 12, 25), "Christmas Day")
    sweep(WEDNESDAY_1200 + MIN)
    _db.session.refresh(ticket)
    assert (
        ticket.first_response_due_at,
        ticket.resolution_due_at,
        ticket.first_response_breached_at,
        ticket.resolution_breached_at,
        ticket.updated_at,
        ticket.sla_next_check_at,
    ) == before
    assert recompute_audits(ticket) == []

    from tests.conftest import login

    login(client, team["agent"])
    timeline = page(client, f"/agent/tickets/{ticket.reference}/sla")
    assert "2026-12-01 17:00" in timeline and "2026-12-02 09:00" not in timeline
    queue = page(client, "/agent/?view=all")
    row = next(r for r in queue.split("<tr") if ticket.reference in r)
    assert "2026-11-27 09:00" in row and "Breached" in row  # Updated: still when it was raised


def test_a_deadline_that_passed_before_the_sweep_saw_it_stays_and_breaches_at_its_time(org, team):
    ticket = p3_ticket(team, at=FRIDAY_0900)
    add_holiday(org, date(2026, 12, 1), "Company day")  # after the fact: the deadline had passed at 17:00
    sweep(WEDNESDAY_1200)
    _db.session.refresh(ticket)
    assert ticket.resolution_due_at == TUESDAY_1700
    assert ticket.resolution_breached_at == TUESDAY_1700


def test_a_running_deadline_moves_without_touching_the_updated_time(org, team):
    breached = p3_ticket(team, at=FRIDAY_0900)
    running = p3_ticket(team, at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC))  # Wednesday 10:00
    assert running.resolution_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # Monday 10:00
    sweep(WEDNESDAY_1200)
    add_holiday(org, date(2026, 12, 3), "Company day")  # Thursday: before the running deadline
    assert sweep(WEDNESDAY_1200 + MIN).recomputed == 1
    _db.session.refresh(running)
    _db.session.refresh(breached)
    assert running.resolution_due_at == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # a working day later
    assert running.updated_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert len(recompute_audits(running)) == 1
    assert (breached.resolution_due_at, breached.resolution_breached_at) == (TUESDAY_1700, TUESDAY_1700)
