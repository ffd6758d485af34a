"""The SLA badge: on track, at risk, breached, paused, met or missed, with time in words."""

from datetime import UTC, datetime, timedelta

from autotrack.extensions import db as _db
from autotrack.models.types import utcnow
from autotrack.services import sla, tickets
from tests import factories
from tests.conftest import login

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def p1_ticket(org, at=T0):
    """P1: 24x7, first response in 15 minutes (warning at 75%), resolution in 2 hours."""
    agent = factories.make_user(org, "agent")
    ticket = tickets.create_ticket(
        agent, title="Server down", requester=factories.make_user(org), priority=factories.priority(org, "P1"), now=at
    )
    _db.session.commit()
    return ticket, agent


def test_the_running_clock_goes_from_on_track_to_at_risk_to_breached(org):
    ticket, _ = p1_ticket(org)
    start = ticket.created_at
    on_track = sla.status_of(ticket, start + timedelta(minutes=5))
    assert (on_track.state, on_track.clock, on_track.words) == (
        "on_track",
        "first_response",
        "first response due in 10 minutes",
    )
    assert sla.status_of(ticket, start + timedelta(minutes=12)).state == "at_risk"
    late = sla.status_of(ticket, start + timedelta(minutes=75))
    assert (late.state, late.words) == ("breached", "first response overdue by 1 hour")


def test_after_the_first_response_the_badge_follows_resolution(org):
    ticket, agent = p1_ticket(org)
    tickets.add_comment(agent, ticket, "Looking", now=ticket.created_at + timedelta(minutes=3))
    status = sla.status_of(ticket, ticket.created_at + timedelta(minutes=30))
    assert (status.state, status.clock, status.words) == (
        "on_track",
        "resolution",
        "resolution due in 1 hour 30 minutes",
    )


def test_paused_then_met(org):
    ticket, agent = p1_ticket(org)
    tickets.transition(agent, ticket, "assign", assignee=agent, now=T0 + MIN)
    tickets.transition(agent, ticket, "wait", now=T0 + 2 * MIN)
    assert sla.status_of(ticket, T0 + 60 * MIN).state == "paused"  # long past the first response: it stands still
    tickets.transition(agent, ticket, "resume", now=T0 + 61 * MIN)
    tickets.add_comment(agent, ticket, "Fixed: restarted the service", now=T0 + 62 * MIN)
    tickets.transition(agent, ticket, "resolve", now=T0 + 63 * MIN)
    _db.session.commit()
    assert sla.status_of(ticket, T0 + 500 * MIN).state == "met"


def test_a_breach_the_sweep_recorded_stays_missed_after_resolution(org):
    ticket, agent = p1_ticket(org)
    sla.sweep(ticket.created_at + timedelta(hours=1))
    _db.session.commit()
    tickets.transition(agent, ticket, "assign", assignee=agent, now=T0 + 61 * MIN)
    tickets.transition(agent, ticket, "resolve", now=T0 + 62 * MIN)
    _db.session.commit()
    assert sla.status_of(ticket, T0 + 63 * MIN).state == "missed"


def test_the_queue_and_ticket_pages_show_the_badge(client, org):
    ticket, agent = p1_ticket(org, at=utcnow())  # the pages read the wall clock: a ticket raised just now
    login(client, agent)
    page = client.get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True)
    assert "sla-on_track" in page and "first response due in" in page
    queue = client.get("/agent/").get_data(as_text=True)
    assert "sla-on_track" in queue or ticket.reference not in queue
