"""Notices in working hours: an escalation rule may hold its emails until the organization's
next working period (its holidays skipped); the escalation itself and the in-app notice happen
at their true moment, and the email goes out once."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, EscalationRule, Holiday, Notification, OutboxEmail
from autotrack.services import outbox
from tests.helpers import MIN, count, p1_ticket, sweep

FRIDAY_1650 = datetime(2026, 11, 27, 16, 50, tzinfo=UTC)  # UTC organization, Mon-Fri 09:00-17:00
BREACH = FRIDAY_1650 + 15 * MIN  # Friday 17:05: the P1 first response breaches, level 1 is due at once
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def keep_level_1_to_working_hours(org):
    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 1))
    rule.working_hours_only = True
    _db.session.commit()


def level_1_email():
    return _db.session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key.startswith("escalation:")))


def test_an_escalation_after_hours_is_recorded_now_and_mailed_at_the_next_opening(org, team):
    keep_level_1_to_working_hours(org)
    ticket = p1_ticket(team, org, at=FRIDAY_1650)
    assert dict(sweep(BREACH).escalated) == {1: 1}
    _db.session.refresh(ticket)
    assert ticket.escalation_level == 1  # recorded at its true moment
    assert count(Notification, Notification.kind == "escalation", Notification.user_id == team["lead"].id) == 1
    email = level_1_email()
    assert email.next_attempt_at == MONDAY_0900

    for moment in (BREACH + MIN, datetime(2026, 11, 28, 12, 0, tzinfo=UTC), MONDAY_0900 - MIN):
        assert outbox.deliver_due(now=moment).sent == 0  # not on Friday evening, not at the weekend
    assert outbox.deliver_due(now=MONDAY_0900).sent == 1
    assert outbox.deliver_due(now=MONDAY_0900 + 60 * MIN).sent == 0  # once


def test_a_holiday_pushes_the_email_to_the_next_working_day(org, team):
    keep_level_1_to_working_hours(org)
    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    _db.session.add(Holiday(org_id=org.id, calendar_id=calendar_id, date=date(2026, 11, 30), name="St Andrew's Day"))
    _db.session.commit()
    p1_ticket(team, org, at=FRIDAY_1650)
    sweep(BREACH)
    assert level_1_email().next_attempt_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_inside_working_hours_or_without_the_option_the_email_goes_at_once(org, team):
    p1_ticket(team, org, at=FRIDAY_1650)  # the option is off
    sweep(BREACH)
    assert level_1_email().next_attempt_at == BREACH  # at once: from the sweep's moment, whatever the wall clock
    assert outbox.deliver_due(now=BREACH).sent == 1

    _db.session.execute(OutboxEmail.__table__.delete())
    keep_level_1_to_working_hours(org)
    thursday = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    p1_ticket(team, org, at=thursday)
    sweep(thursday + 15 * MIN)  # 10:15 on a working day
    assert level_1_email().next_attempt_at == thursday + 15 * MIN


def test_the_warnings_keep_to_working_hours_with_the_first_level(org, team):
    keep_level_1_to_working_hours(org)
    ticket = p1_ticket(team, org, at=FRIDAY_1650)
    ticket.assignee_id = team["agent"].id
    _db.session.commit()
    sweep(FRIDAY_1650 + 12 * MIN)  # past 75% of the 15-minute first response (17:01:15), after hours
    warning = _db.session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key.startswith("warning:")))
    assert warning.recipient == team["agent"].email and warning.next_attempt_at == MONDAY_0900


def test_an_admin_turns_the_option_on_in_the_console(client, org):
    from tests import factories
    from tests.conftest import csrf_token, login

    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 2))
    login(client, factories.admin_of(org))
    form = client.get(f"/admin/escalationrule/edit/?id={rule.id}").get_data(as_text=True)
    assert "Email in working hours only" in form
    response = client.post(
        f"/admin/escalationrule/edit/?id={rule.id}",
        data={
            "level": "2",
            "delay_minutes": str(rule.delay_minutes),
            "notify": rule.notify,
            "working_hours_only": "y",
            "is_active": "y",
            "csrf_token": csrf_token(client, "/portal/"),
        },
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(EscalationRule, rule.id).working_hours_only is True
