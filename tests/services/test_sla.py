"""SLA clocks and the sweep over simulated time: warnings, breaches, escalation levels,
pauses, priority changes, catching up, idempotency and concurrent sweeps."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, EscalationRule, Notification, OutboxEmail, SlaEvent, Ticket
from autotrack.services import outbox, sla, tickets
from tests import factories
from tests.helpers import MIN, T0, count, p1_ticket, run_concurrently, sweep


@dataclass
class Email:
    dedupe_key: str
    recipient: str
    subject: str
    body_text: str  # as the deliverer will render it


def emails(prefix=""):
    rows = _db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.dedupe_key.startswith(prefix)).order_by(OutboxEmail.id)
    ).all()
    return [Email(r.dedupe_key, r.recipient, r.subject, outbox.render_bodies(r)[0]) for r in rows]


def snapshot():
    return tuple(count(m) for m in (SlaEvent, OutboxEmail, AuditEvent, Notification))


# --- deadlines ---------------------------------------------------------------------------------


def test_deadlines_follow_the_priority_calendar(org, team):
    ticket = p1_ticket(team, org)
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (T0 + 15 * MIN, T0 + 120 * MIN)
    assert ticket.first_response_warn_at == T0 + timedelta(minutes=11.25)  # 75%
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    p3 = tickets.create_ticket(team["employee"], title="Slow laptop", now=friday_4pm)  # P3: 4 h / 24 h business
    assert p3.first_response_due_at == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert p3.resolution_due_at == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)


def test_business_hours_follow_the_organization_timezone(db):
    org = factories.make_org("tokyo", timezone="Asia/Tokyo")
    employee = factories.make_user(org)
    start = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 16:30 in Tokyo, Monday
    ticket = tickets.create_ticket(employee, title="VPN", now=start)  # P3: 240 working minutes
    # 30 min on Monday, then 210 min from Tuesday 09:00 Tokyo = 12:30 Tokyo = 03:30 UTC
    assert ticket.first_response_due_at == datetime(2026, 11, 24, 3, 30, tzinfo=UTC)


# --- warnings, breaches, escalations -------------------------------------------------------------


def test_warning_at_75_percent_tells_the_assignee_once(org, team):
    ticket = p1_ticket(team, org)
    tickets.assign(team["lead"], ticket, team["agent"], now=T0 + MIN)
    _db.session.commit()
    assert sweep(T0 + 11 * MIN).warned == 0
    result = sweep(T0 + 12 * MIN)
    assert result.warned == 1 and result.breached == 0
    assert [(e.dedupe_key, e.recipient) for e in emails("warning:")] == [
        (f"warning:{ticket.id}:first_response:{team['agent'].id}", "agent@acme.example")
    ]
    assert "due in 3 minutes" in emails("warning:")[0].subject
    assert count(Notification, Notification.kind == "sla_warning", Notification.user_id == team["agent"].id) == 1
    before = snapshot()
    assert sweep(T0 + 12 * MIN).warned == 0
    assert snapshot() == before


def test_breach_escalates_level_by_level_each_once(org, team):
    ticket = p1_ticket(team, org)
    first_due = T0 + 15 * MIN
    result = sweep(first_due)
    assert result.breached == 1 and dict(result.escalated) == {1: 1}  # level 1 fires at breach + 0
    _db.session.refresh(ticket)
    assert ticket.first_response_breached_at == first_due and ticket.escalation_level == 1
    assert [e.recipient for e in emails("escalation:")] == ["lead@acme.example"]

    assert dict(sweep(first_due + 59 * MIN).escalated) == {}
    assert dict(sweep(first_due + 60 * MIN).escalated) == {2: 1}
    result = sweep(T0 + 121 * MIN)  # the resolution clock breaches too, but levels count from the first breach
    assert result.breached == 1 and dict(result.escalated) == {}
    assert dict(sweep(first_due + 240 * MIN).escalated) == {3: 1}
    assert dict(sweep(first_due + 1000 * MIN).escalated) == {}  # no level 4

    assert [e.recipient for e in emails("escalation:")] == [
        "lead@acme.example",
        "boss@acme.example",
        "admin@acme.example",
    ]
    keys = _db.session.scalars(select(SlaEvent.key).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)).all()
    # Each sweep here jumps past a warning and its breach at once: the warning is recorded, not sent.
    assert keys == [
        "warning:first_response",
        "breach:first_response",
        "escalation:1",
        "escalation:2",
        "warning:resolution",
        "breach:resolution",
        "escalation:3",
    ]
    trail = _db.session.execute(
        select(AuditEvent.action, AuditEvent.from_value, AuditEvent.to_value).where(
            AuditEvent.ticket_id == ticket.id, AuditEvent.actor_id.is_(None)
        )
    ).all()
    assert trail == [("escalation", "0", "1"), ("escalation", "1", "2"), ("escalation", "2", "3")]
    _db.session.refresh(ticket)
    assert ticket.sla_next_check_at is None


def test_a_late_sweep_catches_up_every_level_once_and_says_how_late(org, team):
    ticket = p1_ticket(team, org)
    result = sweep(T0 + 10 * 60 * MIN)
    assert dict(result.escalated) == {1: 1, 2: 1, 3: 1}
    assert result.warned == 0  # no warning about what already breached
    sent = emails("escalation:")
    assert sorted(e.recipient for e in sent) == ["admin@acme.example", "boss@acme.example", "lead@acme.example"]
    assert all("overdue by 9 hours 45 minutes" in e.subject for e in sent)
    assert "overdue by 9 hours 45 minutes" in sent[0].body_text
    assert f"/agent/tickets/{ticket.reference}" in sent[0].body_text
    before = snapshot()
    assert sweep(T0 + 10 * 60 * MIN).summary() == sla.SweepResult().summary()
    assert snapshot() == before


def test_after_downtime_every_crossed_threshold_is_stamped_with_its_real_time(org, team):
    """The jobs were down from T0+5 min to T0+3 h (drills/run.py downtime does this with real
    processes): the catch-up sweep records each crossed threshold once, the ticket's breach times
    are the deadlines, not the restart; a warning overtaken by its breach is recorded, not sent."""
    ticket = p1_ticket(team, org)
    sweep(T0 + 5 * MIN)  # the last sweep before the outage: nothing due yet
    restart = T0 + 180 * MIN
    sweep(restart)
    _db.session.refresh(ticket)
    assert ticket.first_response_warned_at == ticket.first_response_warn_at == T0 + 11 * MIN + timedelta(seconds=15)
    assert ticket.first_response_breached_at == ticket.first_response_due_at == T0 + 15 * MIN
    assert ticket.resolution_breached_at == ticket.resolution_due_at == T0 + 120 * MIN
    events = _db.session.execute(
        select(SlaEvent.key, SlaEvent.due_at, SlaEvent.fired_at)
        .where(SlaEvent.ticket_id == ticket.id)
        .order_by(SlaEvent.id)
    ).all()
    assert [(key, due) for key, due, _ in events] == [
        ("warning:first_response", T0 + 15 * MIN),
        ("breach:first_response", T0 + 15 * MIN),
        ("warning:resolution", T0 + 120 * MIN),
        ("breach:resolution", T0 + 120 * MIN),
        ("escalation:1", T0 + 15 * MIN),
        ("escalation:2", T0 + 15 * MIN),
    ]  # level 3 is due at T0+255 min
    assert {fired for _, _, fired in events} == {restart}
    assert emails("warning:") == []  # "due in -2 hours" helps no one; the escalations say it
    assert count(Notification, Notification.kind == "sla_warning") == 0
    assert sweep(restart).summary() == sla.SweepResult().summary()


def test_sweep_at_the_same_moment_twice_changes_nothing(org, team):
    for _ in range(5):
        p1_ticket(team, org)
    sweep(T0 + 70 * MIN)
    before = snapshot()
    state = _db.session.execute(select(Ticket.id, Ticket.escalation_level, Ticket.sla_next_check_at)).all()
    result = sweep(T0 + 70 * MIN)
    assert (result.tickets_examined, result.emails_queued) == (0, 0)
    assert snapshot() == before
    assert _db.session.execute(select(Ticket.id, Ticket.escalation_level, Ticket.sla_next_check_at)).all() == state


def test_escalation_can_reassign_to_the_notified_person(org, team):
    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 1))
    rule.reassign = True
    _db.session.commit()
    ticket = p1_ticket(team, org)
    tickets.assign(team["agent"], ticket, team["agent"], now=T0 + MIN)
    _db.session.commit()
    sweep(T0 + 16 * MIN)
    _db.session.refresh(ticket)
    assert ticket.assignee_id == team["lead"].id
    assert ticket.updated_at == T0 + 16 * MIN  # "Updated" shows the reassignment
    last = _db.session.execute(
        select(AuditEvent.action, AuditEvent.to_value, AuditEvent.detail)
        .where(AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert last == ("assign", team["lead"].name, "escalation level 1")
    assert "reassigned to you" in emails("escalation:")[0].body_text


def test_a_level_without_people_falls_through_to_the_next(org, team):
    it = factories.make_department(org, "IT")  # no lead, no manager
    ticket = tickets.create_ticket(
        team["agent"], title="x", priority=factories.priority(org, "P1"), department=it, now=T0
    )
    _db.session.commit()
    sweep(T0 + 16 * MIN)
    assert [e.recipient for e in emails(f"escalation:{ticket.id}:1:")] == ["admin@acme.example"]


def test_deactivated_lead_is_not_notified(org, team):
    team["lead"].active = False
    _db.session.commit()
    p1_ticket(team, org)
    sweep(T0 + 16 * MIN)
    assert [e.recipient for e in emails("escalation:")] == ["boss@acme.example"]


# --- clocks that stop, pause and restart ------------------------------------------------------------


def test_first_public_reply_stops_the_first_response_clock(org, team):
    ticket = p1_ticket(team, org)
    tickets.add_comment(team["agent"], ticket, "On it", now=T0 + 5 * MIN)
    _db.session.commit()
    result = sweep(T0 + 20 * MIN)
    assert result.breached == 0 and result.warned == 0
    _db.session.refresh(ticket)
    assert ticket.sla_next_check_at == ticket.resolution_warn_at


def test_pending_pauses_the_clocks_and_resume_moves_deadlines_out(org, team):
    ticket = p1_ticket(team, org)
    tickets.assign(team["agent"], ticket, team["agent"], now=T0 + MIN)
    tickets.add_comment(team["agent"], ticket, "Need your invoice number", now=T0 + 2 * MIN)
    tickets.transition(team["agent"], ticket, "wait", now=T0 + 30 * MIN)
    _db.session.commit()
    assert ticket.sla_next_check_at is None
    assert sweep(T0 + 200 * MIN).breached == 0  # past the old deadline, but paused
    tickets.transition(team["agent"], ticket, "resume", now=T0 + 90 * MIN)
    _db.session.commit()
    assert ticket.resolution_due_at == T0 + 180 * MIN  # out by the 60 minutes it was paused
    assert sweep(T0 + 179 * MIN).breached == 0
    assert sweep(T0 + 181 * MIN).breached == 1


def test_pause_on_business_hours_counts_only_working_time(org, team):
    employee = team["employee"]
    ticket = tickets.create_ticket(employee, title="Payslip", now=T0)  # P3, business hours, resolution 24 h
    tickets.assign(team["agent"], ticket, team["agent"], now=T0)
    due = ticket.resolution_due_at
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    tickets.transition(team["agent"], ticket, "wait", now=friday_4pm)
    tickets.transition(team["agent"], ticket, "resume", now=friday_4pm + timedelta(days=3))  # Monday 16:00
    # Paused 2 working hours (Fri 16-17, Mon 9-16 is 7 more = 8 h), so the deadline moves out 8 working hours.
    from autotrack.services.sla.business_calendar import business_calendar

    assert business_calendar(org.id).between(due, ticket.resolution_due_at) == timedelta(hours=8)


def test_priority_change_keeps_the_time_already_spent(org, team):
    ticket = tickets.create_ticket(
        team["agent"], title="x", priority=factories.priority(org, "P2"), requester=team["employee"], now=T0
    )  # business hours 60 / 360
    tickets.change_priority(team["agent"], ticket, factories.priority(org, "P1"), now=T0 + 30 * MIN)
    # 30 spent of P1's 15: the target was used up at 10:15, so that is when it breaches.
    assert ticket.first_response_due_at == T0 + 15 * MIN
    assert ticket.resolution_due_at == T0 + 120 * MIN  # 30 spent + 90 left of P1's 120 (24x7)
    tickets.change_priority(team["agent"], ticket, factories.priority(org, "P4"), now=T0 + 60 * MIN)
    # 60 minutes spent of P4's 4320 business minutes; from Monday 11:00 that is 71 working hours on.
    from autotrack.services.sla.business_calendar import business_calendar

    assert business_calendar(org.id).between(T0 + 60 * MIN, ticket.resolution_due_at) == timedelta(minutes=4260)


def test_reopen_restarts_the_resolution_clock_where_it_stood(org, team):
    ticket = p1_ticket(team, org)
    tickets.assign(team["agent"], ticket, team["agent"], now=T0 + MIN)
    tickets.add_comment(team["agent"], ticket, "Fixed", now=T0 + 2 * MIN)
    tickets.transition(team["agent"], ticket, "resolve", now=T0 + 60 * MIN)
    assert ticket.sla_next_check_at is None
    tickets.transition(team["employee"], ticket, "reopen", now=T0 + 300 * MIN)
    _db.session.commit()
    assert ticket.resolution_due_at == T0 + 360 * MIN  # 60 minutes were left at resolution
    assert sweep(T0 + 359 * MIN).breached == 0
    assert sweep(T0 + 361 * MIN).breached == 1


def test_resolved_and_closed_tickets_never_breach(org, team):
    ticket = p1_ticket(team, org)
    tickets.transition(team["agent"], ticket, "resolve", now=T0 + 10 * MIN)
    _db.session.commit()
    result = sweep(T0 + 1000 * MIN)
    assert (result.tickets_examined, result.breached) == (0, 0)


# --- concurrency and the CLI ------------------------------------------------------------------------


def test_two_sweeps_at_once_fire_each_level_once(app, org, team):
    ids = [p1_ticket(team, org).id for _ in range(40)]
    at = T0 + 5 * 60 * MIN
    results = run_concurrently(app, lambda: sla.sweep(at, batch_size=7), 2)
    assert sum(sum(r.escalated.values()) for r in results) == 3 * len(ids)
    assert sum(r.emails_queued for r in results) == 3 * len(ids)
    assert count(OutboxEmail) == 3 * len(ids)  # one per ticket, level and recipient
    assert count(SlaEvent, SlaEvent.kind == "escalation") == 3 * len(ids)
    per_key = _db.session.execute(
        select(OutboxEmail.dedupe_key, func.count()).group_by(OutboxEmail.dedupe_key).having(func.count() > 1)
    ).all()
    assert per_key == []


def test_cli_sweep_prints_counts_and_rejects_bad_times(runner, org, team):
    p1_ticket(team, org)
    result = runner.invoke(args=["sla", "sweep", "--now", (T0 + 10 * 60 * MIN).isoformat()])
    assert result.exit_code == 0, result.output
    assert "Breached: 2" in result.output
    assert "Escalated to level 3: 1" in result.output and "Emails queued: 3" in result.output
    again = runner.invoke(args=["sla", "sweep", "--now", (T0 + 10 * 60 * MIN).isoformat()])
    assert "Emails queued: 0" in again.output
    bad = runner.invoke(args=["sla", "sweep", "--now", "next tuesday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_a_moment_recorded_before_is_never_announced_again(org, team):
    """If the ticket's columns lag behind its events (say, restored from a backup), the unique
    event key still stops a second announcement."""
    ticket = p1_ticket(team, org)
    _db.session.add(
        SlaEvent(
            org_id=org.id,
            ticket_id=ticket.id,
            key="escalation:1",
            kind="escalation",
            clock="first_response",
            level=1,
            due_at=T0 + 15 * MIN,
            fired_at=T0 + 15 * MIN,
            sweep_id="earlier",
        )
    )
    _db.session.commit()
    result = sweep(T0 + 16 * MIN)
    assert result.breached == 1 and dict(result.escalated) == {}
    assert emails("escalation:") == []
    _db.session.refresh(ticket)
    assert ticket.escalation_level == 1  # the columns caught up with the record


def test_a_sweep_that_loses_the_database_mid_batch_leaves_nothing_half_written(org, team, monkeypatch):
    """The connection drops after the batch's events and ticket updates were written but before
    the fan-out (drills/run.py mariadb-restart does it with a real restart): the transaction
    is rolled back whole, and the next sweep does the work once."""
    import importlib

    from sqlalchemy.exc import OperationalError

    sweeping = importlib.import_module("autotrack.services.sla.sweep")  # the module: sla.sweep is the function
    for _ in range(3):
        p1_ticket(team, org)
    fan_out = sweeping._fan_out

    def lost_connection(*args):
        raise OperationalError("INSERT INTO notifications", {}, ConnectionError("Lost connection to server"))

    before = snapshot()
    monkeypatch.setattr(sweeping, "_fan_out", lost_connection)
    with pytest.raises(OperationalError):
        sweep(T0 + 10 * 60 * MIN)
    _db.session.rollback()
    assert snapshot() == before
    assert count(Ticket, Ticket.escalation_level > 0) == 0
    assert count(Ticket, Ticket.first_response_breached_at.is_not(None)) == 0

    monkeypatch.setattr(sweeping, "_fan_out", fan_out)
    result = sweep(T0 + 10 * 60 * MIN)
    assert dict(result.escalated) == {1: 3, 2: 3, 3: 3}
    assert count(Ticket, Ticket.escalation_level == 3) == 3
    assert len(emails("escalation:")) == 9
    assert sweep(T0 + 10 * 60 * MIN).summary() == sla.SweepResult().summary()
