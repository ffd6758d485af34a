"""A priority change and a clock that has already breached: the breach stays, with its due time
and stamp; only clocks not yet breached are retargeted, keeping the working time spent. The
ticket list's badge, the SLA timeline and the API say the same."""

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, SlaEvent, WorkingHours, utcnow
from autotrack.services import sla, tickets
from autotrack.services.sla import timeline as sla_timeline
from tests import factories
from tests.conftest import login
from tests.helpers import MIN, T0, sweep

MONDAY_1500 = T0 + 5 * 60 * MIN  # T0 is Monday 10:00 UTC; the organization works Mon-Fri 09-17 UTC


def p3_ticket(team, at=T0):
    """P3 (business hours): first response 4 h, resolution 24 working hours."""
    ticket = tickets.create_ticket(team["employee"], title="Badge reader", now=at)
    _db.session.commit()
    return ticket


def breaches(ticket):
    return _db.session.execute(
        select(SlaEvent.clock, SlaEvent.due_at)
        .where(SlaEvent.ticket_id == ticket.id, SlaEvent.kind == "breach")
        .order_by(SlaEvent.id)
    ).all()


def test_a_breached_clock_keeps_its_due_time_and_breach_and_the_others_keep_the_time_spent(org, team):
    ticket = p3_ticket(team)
    assert ticket.first_response_due_at == T0 + 4 * 60 * MIN  # Monday 14:00
    assert sweep(MONDAY_1500).breached == 1
    _db.session.refresh(ticket)
    assert ticket.first_response_breached_at == T0 + 4 * 60 * MIN

    tickets.change_priority(team["agent"], ticket, factories.priority(org, "P2"), now=MONDAY_1500 + MIN)
    _db.session.commit()
    assert ticket.first_response_due_at == ticket.first_response_breached_at == T0 + 4 * 60 * MIN
    # 5 h 1 min of P2's 6 working hours spent: 59 minutes left, Monday 15:01 -> 16:00.
    assert ticket.resolution_due_at == MONDAY_1500 + 60 * MIN
    status = sla.status_of(ticket, MONDAY_1500 + 2 * MIN)
    assert (status.state, status.words) == ("breached", "first response overdue by 1 hour 2 minutes")
    assert sweep(MONDAY_1500 + 2 * MIN).breached == 0  # nothing breaches again

    line = sla_timeline.timeline(ticket, MONDAY_1500 + 2 * MIN)
    assert line.explained
    first = next(c for c in line.clocks if c.clock == "first_response")
    assert first.state == "breached" and first.target == timedelta(hours=4)  # the target it breached against
    assert first.counted == timedelta(hours=5, minutes=2)
    assert first.steps[-1].detail.startswith("P3 → P2: already breached, due Mon 23 Nov 2026 14:00")
    resolution = next(c for c in line.clocks if c.clock == "resolution")
    assert resolution.state == "running" and resolution.target == timedelta(hours=6)
    assert resolution.counted == timedelta(hours=5, minutes=2)
    assert resolution.steps[-1].detail == "P3 → P2: 5 hours 1 minute counted of 6 working hours"


def test_a_target_already_used_up_breaches_at_the_moment_it_was_used_up(org, team):
    ticket = p3_ticket(team)
    sweep(T0 + 90 * MIN)  # nothing due yet (first response 14:00)
    tickets.change_priority(team["agent"], ticket, factories.priority(org, "P2"), now=T0 + 90 * MIN)  # 1 h target
    _db.session.commit()
    assert ticket.first_response_due_at == T0 + 60 * MIN  # the hour was used up at 11:00, not at the change
    result = sweep(T0 + 91 * MIN)
    assert result.breached == 1 and dict(result.escalated) == {1: 1}
    _db.session.refresh(ticket)
    assert ticket.first_response_breached_at == T0 + 60 * MIN
    assert breaches(ticket) == [("first_response", T0 + 60 * MIN)]
    assert sla.status_of(ticket, T0 + 91 * MIN).words == "first response overdue by 31 minutes"


def test_a_deadline_passed_but_not_yet_swept_stays_and_breaches_at_its_time(org, team):
    ticket = p3_ticket(team)
    tickets.change_priority(team["agent"], ticket, factories.priority(org, "P4"), now=MONDAY_1500)  # no sweep ran
    _db.session.commit()
    assert ticket.first_response_due_at == T0 + 4 * 60 * MIN  # passed at 14:00: P4's 8 hours do not undo that
    sweep(MONDAY_1500 + MIN)
    _db.session.refresh(ticket)
    assert breaches(ticket) == [("first_response", T0 + 4 * 60 * MIN)]


# --- the three faces agree (pages and API read the wall clock: a ticket of just now) -----------


def around_the_clock(org):
    """The organization works around the clock, so times relative to the wall clock stay exact."""
    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    _db.session.execute(delete(WorkingHours).where(WorkingHours.calendar_id == calendar_id))
    _db.session.commit()


def test_the_list_badge_the_timeline_and_the_api_agree_after_raising_a_breached_ticket(client, org, team):
    from tests.helpers import token_for

    around_the_clock(org)
    now = utcnow()
    raised = now - timedelta(hours=5, minutes=10, seconds=30)  # mid-minute: the words below hold for 29 s
    ticket = p3_ticket(team, at=raised)  # P3: first response 4 h, resolution 24 h
    first_due = raised + timedelta(hours=4)
    sweep(now)
    headers = {"Authorization": f"Bearer {token_for(client, team['agent'])}"}
    response = client.patch(f"/api/v1/tickets/{ticket.reference}", json={"priority": "P2"}, headers=headers)
    assert response.status_code == 200, response.get_json()

    body = client.get(f"/api/v1/tickets/{ticket.reference}", headers=headers).get_json()
    assert body["priority"] == "P2"
    assert datetime.fromisoformat(body["first_response_due_at"]) == first_due
    assert body["sla"]["state"] == "breached"
    assert datetime.fromisoformat(body["sla"]["due_at"]) == first_due
    assert body["sla"]["words"] == "first response overdue by 1 hour 10 minutes"
    # P2's 6 hours, 5 h 10 min of them spent: due 50 minutes after the change.
    resolution_due = datetime.fromisoformat(body["resolution_due_at"])
    assert timedelta(minutes=49) < resolution_due - now < timedelta(minutes=51)

    login(client, team["agent"])
    queue = client.get("/agent/?view=all").get_data(as_text=True)
    row = next(r for r in queue.split("<tr") if ticket.reference in r)
    assert "Breached" in row and "first response overdue by 1 hour 10 minutes" in row

    page = client.get(f"/agent/tickets/{ticket.reference}/sla").get_data(as_text=True)
    first = page[page.index('data-clock="first_response"') : page.index('data-clock="resolution"')]
    assert "breached" in first and first_due.strftime("%Y-%m-%d %H:%M") in first
    assert "P3 → P2: already breached" in first
    assert re.search(r"Working time counted</dt><dd[^>]*>5 hours 10 minutes<", first)
    assert "less than a minute" not in page and "overdue by 1 minute" not in page
