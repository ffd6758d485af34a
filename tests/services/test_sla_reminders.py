"""Reminders while overdue: one digest per person and period listing every overdue ticket the
level reached, in business hours only, exactly once even under concurrent sweeps."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import EscalationRule, OutboxEmail, SlaDigestRun
from autotrack.services import outbox, sla, tickets
from tests import factories
from tests.helpers import MIN, T0, run_concurrently, sweep

TUESDAY_0830 = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # the org's calendar: Mon-Fri 09-17 UTC
TUESDAY_0930 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SATURDAY_1000 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def remind(org, level, how):
    rule = _db.session.scalar(
        select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == level)
    )
    rule.reminder = how
    _db.session.commit()
    return rule


@pytest.fixture
def overdue(org, team):
    """Three P1 tickets whose first response breached at 10:15 on Monday (level 1 at once, level 2
    an hour later); their resolution is far away."""
    p1 = factories.priority(org, "P1")
    p1.resolution_minutes = 100_000
    _db.session.commit()
    made = [
        tickets.create_ticket(team["agent"], title=f"Printer {n} jams", priority=p1, requester=team["employee"], now=T0)
        for n in range(3)
    ]
    _db.session.commit()
    return made


def digests(recipient=None):
    query = select(OutboxEmail).where(OutboxEmail.dedupe_key.startswith("digest:")).order_by(OutboxEmail.id)
    if recipient:
        query = query.where(OutboxEmail.recipient == recipient)
    return _db.session.scalars(query).all()


def test_one_digest_per_person_and_day_lists_every_overdue_ticket(org, team, overdue):
    remind(org, 1, "daily")
    result = sweep(T0 + 16 * MIN)
    assert dict(result.escalated) == {1: 3} and result.digests == 1  # Monday's, claimed by its first sweep
    (monday,) = digests()
    assert monday.recipient == "lead@acme.example" and monday.subject == "3 overdue tickets still need you"
    text, html = outbox.render_bodies(monday)
    assert all(t.reference in text and t.reference in html for t in overdue)
    assert "First response overdue by 1 minute" in text

    assert sweep(T0 + 5 * 60 * MIN).digests == 0  # later the same day: nothing more
    tickets.add_comment(team["agent"], overdue[0], "Replaced the drum", now=T0 + 6 * 60 * MIN)
    _db.session.commit()
    assert sweep(TUESDAY_0830).digests == 0  # before business opens
    assert sweep(TUESDAY_0930).digests == 1
    tuesday = digests()[-1]
    text, _ = outbox.render_bodies(tuesday)
    assert overdue[0].reference not in text and overdue[1].reference in text  # answered: no longer overdue
    assert tuesday.dedupe_key == f"digest:{org.id}:{team['lead'].id}:daily:2026-11-24"
    assert sweep(SATURDAY_1000).digests == 0  # no business hours at the weekend


def test_each_level_reminds_its_own_people_of_what_reached_it(org, team, overdue):
    remind(org, 2, "daily")
    sweep(T0 + 16 * MIN)  # level 1 only: the manager has nothing to be reminded of
    assert digests() == []
    assert _db.session.scalar(select(SlaDigestRun.emails)) == 0
    assert sweep(TUESDAY_0930).digests == 1  # level 2 came at 11:15 on Monday
    assert [d.recipient for d in digests()] == ["boss@acme.example"]


def test_hourly_reminders_come_every_business_hour(org, team, overdue):
    remind(org, 1, "hourly")
    sweep(T0 + 16 * MIN)
    assert sweep(T0 + 30 * MIN).digests == 0
    assert sweep(T0 + 61 * MIN).digests == 1
    assert sweep(T0 + 8 * 60 * MIN).digests == 0  # 18:00: closed
    assert len(digests()) == 2


def test_no_reminders_unless_a_rule_asks_or_once_it_is_deactivated(org, team, overdue):
    assert sweep(T0 + 16 * MIN).digests == 0
    rule = remind(org, 1, "daily")
    rule.is_active = False
    _db.session.commit()
    assert sweep(TUESDAY_0930).digests == 0
    assert digests() == []


def test_two_sweeps_at_once_send_each_digest_once(app, org, team, overdue):
    remind(org, 1, "daily")
    remind(org, 2, "daily")
    results = run_concurrently(app, lambda: sla.sweep(TUESDAY_0930), 2)
    assert sum(r.digests for r in results) == 2  # the lead's and the manager's
    assert sorted(d.recipient for d in digests()) == ["boss@acme.example", "lead@acme.example"]
    assert _db.session.scalar(select(func.count()).select_from(SlaDigestRun)) == 1
    assert sweep(TUESDAY_0930).digests == 0


def test_an_admin_sets_reminders_in_the_console(client, org):
    from tests.conftest import csrf_token, login

    rule = remind(org, 2, None)
    login(client, factories.admin_of(org))
    form = client.get(f"/admin/escalationrule/edit/?id={rule.id}").get_data(as_text=True)
    assert "Remind while overdue" in form and "Every working day, when business opens" in form
    data = {
        "level": "2",
        "delay_minutes": str(rule.delay_minutes),
        "notify": rule.notify,
        "is_active": "y",
        "csrf_token": csrf_token(client, "/portal/"),
    }
    assert (
        client.post(f"/admin/escalationrule/edit/?id={rule.id}", data={**data, "reminder": "daily"}).status_code == 302
    )
    _db.session.expire_all()
    assert _db.session.get(EscalationRule, rule.id).reminder == "daily"
    assert (
        client.post(f"/admin/escalationrule/edit/?id={rule.id}", data={**data, "reminder": "__None"}).status_code == 302
    )
    _db.session.expire_all()
    assert _db.session.get(EscalationRule, rule.id).reminder is None
