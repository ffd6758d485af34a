"""The update clock (next response): each time the requester writes while no cycle runs, an
agent owes a public answer within the priority's target. Each cycle warns and breaches once."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import OutboxEmail, Priority, SlaEvent
from autotrack.services import sla, tickets
from autotrack.services.org import imports
from autotrack.services.tickets import queues
from tests import factories
from tests.helpers import MIN, T0, sweep


@pytest.fixture
def p1(org):
    """P1 (24x7) with a 30-minute update target and a resolution far away, so only the
    update and first-response clocks matter here."""
    priority = factories.priority(org, "P1")
    priority.next_response_minutes = 30
    priority.resolution_minutes = 100_000
    _db.session.commit()
    return priority


def raise_ticket(team, p1, at=T0):
    ticket = tickets.create_ticket(
        team["agent"], title="Payroll export fails", priority=p1, requester=team["employee"], now=at
    )
    tickets.assign(team["agent"], ticket, team["agent"], now=at)
    _db.session.commit()
    return ticket


def keys(ticket):
    return _db.session.scalars(select(SlaEvent.key).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)).all()


def test_the_first_cycle_starts_with_the_ticket_and_a_public_reply_stops_it(org, team, p1):
    ticket = raise_ticket(team, p1)
    assert (ticket.next_response_cycle, ticket.next_response_due_at) == (1, T0 + 30 * MIN)
    assert ticket.next_response_warn_at == T0 + 22.5 * MIN  # the organization's 75 %
    tickets.add_comment(team["agent"], ticket, "Looking into it", internal=True, now=T0 + 5 * MIN)
    assert ticket.next_response_at is None  # an internal note answers nobody
    tickets.add_comment(team["agent"], ticket, "Which export: monthly or weekly?", now=T0 + 10 * MIN)
    _db.session.commit()
    assert (ticket.first_response_at, ticket.next_response_at) == (T0 + 10 * MIN, T0 + 10 * MIN)
    assert sweep(T0 + 60 * MIN).breached == 0
    assert keys(ticket) == []


def test_each_requester_message_owes_an_answer_and_each_cycle_breaches_once(org, team, p1):
    ticket = raise_ticket(team, p1)
    tickets.add_comment(team["agent"], ticket, "Which export?", now=T0 + 5 * MIN)
    tickets.add_comment(team["employee"], ticket, "The monthly one", now=T0 + 60 * MIN)
    tickets.add_comment(team["employee"], ticket, "It is urgent", now=T0 + 70 * MIN)
    _db.session.commit()
    # Waiting since the first unanswered message, not the latest.
    assert (ticket.next_response_cycle, ticket.next_response_due_at) == (2, T0 + 90 * MIN)

    assert sweep(T0 + 83 * MIN).warned == 1
    result = sweep(T0 + 91 * MIN)
    assert result.breached == 1 and dict(result.escalated) == {1: 1}  # level 1 fires at the breach
    assert sweep(T0 + 91 * MIN).breached == 0  # once
    assert sla.status_of(ticket, T0 + 95 * MIN).clock == "next_response"

    tickets.add_comment(team["agent"], ticket, "Fixed the export", now=T0 + 100 * MIN)
    _db.session.commit()
    assert sla.status_of(ticket, T0 + 101 * MIN).state == "on_track"  # only the resolution clock runs
    tickets.add_comment(team["employee"], ticket, "It failed again", now=T0 + 200 * MIN)
    _db.session.commit()
    assert (ticket.next_response_cycle, ticket.next_response_due_at) == (3, T0 + 230 * MIN)
    assert ticket.next_response_breached_at is None and ticket.next_response_warned_at is None
    assert sweep(T0 + 223 * MIN).warned == 1
    assert sweep(T0 + 231 * MIN).breached == 1

    assert keys(ticket) == [
        "warning:next_response:2",
        "breach:next_response:2",
        "escalation:1",
        "warning:next_response:3",
        "breach:next_response:3",
    ]
    warnings = _db.session.scalars(
        select(OutboxEmail.dedupe_key).where(OutboxEmail.dedupe_key.startswith("warning:"))
    ).all()
    assert sorted(warnings) == [f"warning:{ticket.id}:next_response:{cycle}:{team['agent'].id}" for cycle in (2, 3)]
    # The escalation ladder is the ticket's: it climbs on from level 1, counted from the breach now running.
    assert dict(sweep(T0 + 289 * MIN).escalated) == {}
    assert dict(sweep(T0 + 290 * MIN).escalated) == {2: 1}


def test_pending_ends_with_the_requesters_reply_which_starts_a_new_cycle(org, team, p1):
    ticket = raise_ticket(team, p1)
    tickets.add_comment(team["agent"], ticket, "Please send the log file", now=T0 + 5 * MIN)
    tickets.transition(team["agent"], ticket, "wait", now=T0 + 6 * MIN)
    _db.session.commit()
    assert ticket.sla_next_check_at is None
    tickets.add_comment(team["employee"], ticket, "Attached", now=T0 + 600 * MIN)
    _db.session.commit()
    assert ticket.state == "open"
    assert (ticket.next_response_cycle, ticket.next_response_due_at) == (2, T0 + 630 * MIN)
    assert ticket.sla_next_check_at == T0 + 622.5 * MIN  # its warning point comes first


def test_an_unanswered_cycle_stands_still_while_the_ticket_is_pending(org, team, p1):
    ticket = raise_ticket(team, p1)
    tickets.transition(team["agent"], ticket, "wait", now=T0 + 10 * MIN)  # no public answer given
    tickets.transition(team["agent"], ticket, "resume", now=T0 + 70 * MIN)
    _db.session.commit()
    assert ticket.next_response_cycle == 1
    assert ticket.next_response_due_at == T0 + 90 * MIN  # out by the hour it was pending


def test_resolving_answers_and_a_reply_to_the_resolution_reopens_with_a_new_cycle(org, team, p1):
    ticket = raise_ticket(team, p1)
    tickets.transition(team["agent"], ticket, "resolve", now=T0 + 20 * MIN)
    _db.session.commit()
    assert ticket.next_response_at == T0 + 20 * MIN
    tickets.add_comment(team["employee"], ticket, "Still broken", now=T0 + 24 * 60 * MIN)
    _db.session.commit()
    assert ticket.state == "open"
    assert (ticket.next_response_cycle, ticket.next_response_due_at) == (2, T0 + (24 * 60 + 30) * MIN)
    assert sweep(T0 + (24 * 60 + 31) * MIN).breached >= 1
    assert "breach:next_response:2" in keys(ticket)


def test_without_a_target_nothing_is_due_until_a_priority_sets_one(org, team, p1):
    employee = team["employee"]
    ticket = tickets.create_ticket(employee, title="Mouse", now=T0)  # P3: no update target
    _db.session.commit()
    assert ticket.next_response_due_at is None and ticket.next_response_started_at == T0
    assert queues.page(team["agent"], queues.Filters(sla_state="on_track"), now=T0 + MIN)[0] == [ticket]
    # Moved to P1 (24x7, 30 min) after 10 minutes: the wait so far counts.
    tickets.change_priority(team["agent"], ticket, p1, now=T0 + 10 * MIN)
    assert ticket.next_response_due_at == T0 + 30 * MIN
    # Back to a priority without one: nothing is due any more.
    tickets.change_priority(team["agent"], ticket, factories.priority(org, "P3"), now=T0 + 11 * MIN)
    assert ticket.next_response_due_at is None and ticket.next_response_warn_at is None


def test_the_at_risk_and_breached_queues_see_the_update_clock(org, team, p1):
    ticket = raise_ticket(team, p1)
    tickets.add_comment(team["agent"], ticket, "On it", now=T0 + 2 * MIN)
    tickets.add_comment(team["employee"], ticket, "Any news?", now=T0 + 10 * MIN)
    _db.session.commit()
    agent = team["agent"]

    def listed(state, at):
        return queues.page(agent, queues.Filters(sla_state=state), now=at)[0]

    assert listed("at_risk", T0 + 33 * MIN) == [ticket]  # warning point 32:30
    assert listed("breached", T0 + 41 * MIN) == [ticket]
    assert listed("on_track", T0 + 41 * MIN) == []


def test_admins_set_the_target_in_the_console_and_by_csv(client, org):
    from tests.conftest import csrf_token, login

    priority = factories.priority(org, "P2")
    login(client, factories.admin_of(org))
    assert "update clock" in client.get(f"/admin/priority/edit/?id={priority.id}").get_data(as_text=True)
    data = {
        "name": "P2",
        "weight": "3",
        "first_response_minutes": "60",
        "resolution_minutes": "360",
        "calendar": priority.calendar,
        "csrf_token": csrf_token(client, "/portal/"),
    }
    refused = client.post(f"/admin/priority/edit/?id={priority.id}", data={**data, "next_response_minutes": "0"})
    assert refused.status_code == 200 and "1 or more" in refused.get_data(as_text=True)
    assert (
        client.post(
            f"/admin/priority/edit/?id={priority.id}", data={**data, "next_response_minutes": "120"}
        ).status_code
        == 302
    )
    _db.session.expire_all()
    assert _db.session.get(Priority, priority.id).next_response_minutes == 120

    report = imports.run(
        org,
        "priorities",
        b"name,weight,first_response_minutes,resolution_minutes,next_response_minutes\r\n"
        b"P2,3,60,360,\r\nP9,1,10,20,45\r\n",
    )
    assert report.ok, [r.message for r in report.rows]
    _db.session.commit()
    assert factories.priority(org, "P2").next_response_minutes is None  # empty: no update clock
    assert factories.priority(org, "P9").next_response_minutes == 45
