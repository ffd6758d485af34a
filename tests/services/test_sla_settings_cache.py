"""The SLA settings cache (services/sla/settings.py org_settings): fast on repeat, and never stale. Every
way an organization's calendar, warning point or escalation rules change is seen at once."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, event, select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, EscalationRule, Holiday, Organization, WorkingHours
from autotrack.services import sla
from autotrack.services.org import orgs
from tests import factories

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Europe/London = UTC in November


def business_due(org, minutes, start=MONDAY_10):
    return sla.org_settings(org.id).calendar.add(start, minutes)


def queries_while(action):
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    return len(statements)


def test_repeated_reads_cost_one_query_at_most(org):
    sla.org_settings(org.id)
    assert queries_while(lambda: sla.org_settings(org.id)) == 0  # the token of the session's Organization
    _db.session.expunge(org)
    assert queries_while(lambda: sla.org_settings(org.id)) == 1  # the token alone


def test_new_business_hours_apply_to_the_next_deadline(org):
    before = business_due(org, 8 * 60)
    orgs.update_settings(
        org,
        name=org.name,
        timezone=org.timezone,
        warning_percent=org.sla_warning_percent,
        hours={day: [(7 * 60, 19 * 60)] for day in range(5)},
    )  # 12 h days instead of 8
    _db.session.commit()
    assert business_due(org, 8 * 60) < before
    assert business_due(org, 8 * 60) == MONDAY_10 + timedelta(hours=8)  # all within Monday now


def test_a_new_holiday_and_a_new_warning_point_apply_at_once(org):
    calendar = _db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.org_id == org.id))
    monday_next_week = business_due(org, 5 * 8 * 60)
    _db.session.add(Holiday(org_id=org.id, calendar_id=calendar.id, date=date(2026, 11, 24), name="Closed"))
    _db.session.commit()
    assert business_due(org, 5 * 8 * 60) == monday_next_week + timedelta(days=1)
    org.sla_warning_percent = 50
    _db.session.commit()
    assert sla.org_settings(org.id).warning_percent == 50


def test_a_bulk_delete_of_working_hours_is_seen(org):
    hours_before = sla.org_settings(org.id).calendar.periods
    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    _db.session.execute(delete(WorkingHours).where(WorkingHours.calendar_id == calendar_id, WorkingHours.weekday == 0))
    _db.session.commit()
    periods = sla.org_settings(org.id).calendar.periods
    assert 0 in hours_before and 0 not in periods


def test_escalation_rules_changes_move_the_next_check(org):
    delays = sla.org_settings(org.id).delays
    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 1))
    rule.delay_minutes += 45
    _db.session.commit()
    assert sla.org_settings(org.id).delays[0] == (1, dict(delays)[1] + 45)


def test_a_rolled_back_change_is_never_served_from_the_cache(org):
    before = business_due(org, 8 * 60)
    orgs.update_settings(
        org,
        name=org.name,
        timezone=org.timezone,
        warning_percent=org.sla_warning_percent,
        hours={day: [(0, 24 * 60)] for day in range(7)},
    )
    assert business_due(org, 8 * 60) == MONDAY_10 + timedelta(hours=8)  # seen inside the transaction
    _db.session.rollback()
    assert business_due(org, 8 * 60) == before


def test_organizations_do_not_share_entries(org, other_org):
    other_org.timezone = "Asia/Tokyo"
    _db.session.commit()
    assert sla.org_settings(org.id).calendar.tz.key != sla.org_settings(other_org.id).calendar.tz.key
    tokens = set(_db.session.scalars(select(Organization.settings_token)))
    assert len(tokens) == 2


def test_a_ticket_raised_after_a_calendar_change_gets_the_new_deadline(org):
    employee = factories.make_user(org)
    first = factories.make_ticket(employee)
    orgs.update_settings(
        org,
        name=org.name,
        timezone=org.timezone,
        warning_percent=org.sla_warning_percent,
        hours={day: [(0, 24 * 60)] for day in range(7)},
    )  # around the clock
    _db.session.commit()
    second = factories.make_ticket(employee)
    if first.priority.calendar == "business":
        assert second.resolution_due_at - second.created_at < first.resolution_due_at - first.created_at
    assert second.resolution_due_at - second.created_at <= timedelta(minutes=second.priority.resolution_minutes)
