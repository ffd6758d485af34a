"""The SLA timeline explains every stored due time: each clock's steps with the arithmetic
that produced them, and what the sweep did (levels, who was told, each email's delivery)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, EscalationRule, Holiday
from autotrack.services import sla, tickets
from autotrack.services.errors import DomainError
from autotrack.services.sla import timeline as sla_timeline
from tests import factories
from tests.conftest import login

BERLIN = ZoneInfo("Europe/Berlin")
MIN = timedelta(minutes=1)


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def add_holiday(org, day, name):
    calendar = _db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.org_id == org.id))
    _db.session.add(Holiday(org_id=org.id, calendar_id=calendar.id, date=day, name=name))
    _db.session.commit()


@pytest.fixture
def berlin_org(db):
    org = factories.make_org("berlin", timezone="Europe/Berlin")
    add_holiday(org, date(2027, 1, 6), "Epiphany")
    return org


@pytest.fixture
def staff(berlin_org):
    return {
        "employee": factories.make_user(berlin_org),
        "agent": factories.make_user(berlin_org, "agent"),
        "lead": factories.make_user(berlin_org, "agent", lead=True),
    }


def clock(line, name, cycle=0):
    return next(c for c in line.clocks if c.clock == name and c.cycle == cycle)


def test_a_due_time_is_explained_across_the_weekend(berlin_org, staff):
    ticket = tickets.create_ticket(staff["employee"], title="VPN", now=berlin(2026, 11, 27, 15, 10))  # P3: 4 h
    _db.session.commit()
    first = clock(sla_timeline.timeline(ticket, berlin(2026, 11, 27, 15, 20)), "first_response")
    assert first.due_at == ticket.first_response_due_at == berlin(2026, 11, 30, 11, 10)
    (start,) = first.steps
    assert start.arithmetic == "4 hours of business time from Fri 27 Nov 15:10 = Mon 30 Nov 11:10, skipping the weekend"
    assert start.detail == "P3: 4 working hours" and first.explained


def test_and_across_a_holiday(berlin_org, staff):
    ticket = tickets.create_ticket(staff["employee"], title="VPN", now=berlin(2027, 1, 5, 15, 10))
    _db.session.commit()
    (start,) = clock(sla_timeline.timeline(ticket, berlin(2027, 1, 5, 15, 20)), "first_response").steps
    assert start.arithmetic == (
        "4 hours of business time from Tue 05 Jan 15:10 = Thu 07 Jan 11:10, skipping the 6 Jan holiday (Epiphany)"
    )
    assert start.due_at == ticket.first_response_due_at


def test_every_step_of_a_ticket_is_shown_with_its_arithmetic(berlin_org, staff):
    agent, now = staff["agent"], berlin(2026, 11, 23, 10, 0)  # a Monday
    ticket = tickets.create_ticket(staff["employee"], title="Printer", now=now)
    tickets.assign(agent, ticket, agent, now=now + MIN)
    tickets.transition(agent, ticket, "wait", now=now + 30 * MIN)
    tickets.transition(agent, ticket, "resume", now=now + 90 * MIN)
    tickets.change_priority(agent, ticket, factories.priority(berlin_org, "P2"), now=now + 100 * MIN)
    tickets.add_comment(agent, ticket, "Replaced the toner", now=now + 110 * MIN)
    tickets.transition(agent, ticket, "resolve", now=now + 120 * MIN)
    _db.session.commit()

    line = sla_timeline.timeline(ticket, now=now + 200 * MIN)
    assert line.recorded and line.explained
    first = clock(line, "first_response")
    assert [s.kind for s in first.steps] == ["start", "pause", "resume", "retarget", "stop"]
    resume = first.steps[2]
    assert resume.detail == "resumed after 1 hour of working time"
    assert resume.arithmetic.startswith("1 hour of business time from Mon 23 Nov 14:00 = Mon 23 Nov 15:00")
    assert first.steps[3].detail == "P3 → P2: 40 minutes counted of 1 working hour"
    assert first.state == "met" and first.stopped_at == now + 110 * MIN
    assert first.counted == timedelta(minutes=50)  # 100 working minutes less the hour pending
    assert clock(line, "resolution").steps[-1].detail == "resolved"


def test_an_edited_calendar_is_flagged_not_hidden(berlin_org, staff):
    ticket = tickets.create_ticket(staff["employee"], title="VPN", now=berlin(2026, 11, 27, 15, 10))
    _db.session.commit()
    add_holiday(berlin_org, date(2026, 11, 30), "Company day")  # the due day becomes a holiday
    first = clock(sla_timeline.timeline(ticket, berlin(2026, 11, 27, 15, 20)), "first_response")
    assert not first.explained and not first.steps[0].explained
    assert first.steps[0].replayed_due == berlin(2026, 12, 1, 11, 10)
    assert first.due_at == berlin(2026, 11, 30, 11, 10)  # the stored due time, as it is


def test_escalations_show_who_was_told_and_each_emails_delivery(berlin_org, staff):
    rule = _db.session.scalar(
        select(EscalationRule).where(EscalationRule.org_id == berlin_org.id, EscalationRule.level == 1)
    )
    rule.working_hours_only = True
    _db.session.commit()
    p1 = factories.priority(berlin_org, "P1")  # 24x7, first response 15 minutes
    ticket = tickets.create_ticket(
        staff["agent"],
        title="Core switch down",
        priority=p1,
        requester=staff["employee"],
        now=berlin(2026, 11, 23, 22, 0),
    )
    _db.session.commit()
    sla.sweep(berlin(2026, 11, 23, 22, 12))
    sla.sweep(berlin(2026, 11, 23, 22, 20))
    line = sla_timeline.timeline(ticket, now=berlin(2026, 11, 23, 22, 30))
    first = clock(line, "first_response")
    assert first.state == "breached"
    assert [m.kind for m in first.moments] == ["warning", "breach"]
    (level1,) = line.escalations
    assert (level1.level, level1.notified) == (1, [staff["lead"].name])
    (email,) = level1.emails
    # Held for the next working period (the rule keeps to working hours): 09:00 Tuesday.
    assert (email.recipient, email.state, email.at) == (staff["lead"].email, "held", berlin(2026, 11, 24, 9, 0))


def test_staff_see_the_timeline_and_requesters_and_strangers_do_not(app, berlin_org, staff, other_org):
    ticket = tickets.create_ticket(staff["employee"], title="VPN", now=berlin(2026, 11, 27, 15, 10))
    _db.session.commit()

    def signed_in(user):
        client = app.test_client()
        login(client, user)
        return client

    agent = signed_in(staff["agent"])
    page = agent.get(f"/agent/tickets/{ticket.reference}/sla")
    assert page.status_code == 200
    assert "skipping the weekend" in page.get_data(as_text=True)
    assert f"/agent/tickets/{ticket.reference}/sla" in agent.get(f"/agent/tickets/{ticket.reference}").get_data(
        as_text=True
    )

    admin = signed_in(factories.admin_of(berlin_org))
    console = admin.get(f"/admin/ticket/sla/?id={ticket.id}")
    assert console.status_code == 200 and "skipping the weekend" in console.get_data(as_text=True)
    assert f"/admin/ticket/sla/?id={ticket.id}" in admin.get("/admin/ticket/").get_data(as_text=True)

    assert signed_in(factories.admin_of(other_org)).get(f"/admin/ticket/sla/?id={ticket.id}").status_code == 404
    stranger = signed_in(factories.make_user(other_org, "agent"))
    assert stranger.get(f"/agent/tickets/{ticket.reference}/sla").status_code == 404


def test_the_api_gives_the_timeline_to_staff_only(client, berlin_org, staff):
    from tests.helpers import token_for

    def auth(client, user):
        return {"Authorization": f"Bearer {token_for(client, user)}"}

    ticket = tickets.create_ticket(staff["employee"], title="VPN", now=berlin(2026, 11, 27, 15, 10))
    _db.session.commit()
    response = client.get(f"/api/v1/tickets/{ticket.reference}/sla", headers=auth(client, staff["agent"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["explained"] is True and body["timezone"] == "Europe/Berlin"
    first = next(c for c in body["clocks"] if c["clock"] == "first_response")
    assert first["target_minutes"] == 240 and first["steps"][0]["working_minutes"] == 240
    assert first["steps"][0]["arithmetic"].endswith("skipping the weekend")
    refused = client.get(f"/api/v1/tickets/{ticket.reference}/sla", headers=auth(client, staff["employee"]))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"]


# --- property: the timeline's arithmetic matches the stored due times, whatever happened ---------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["wait", "resume", "priority", "staff_reply", "requester_reply", "resolve", "reopen", "note"]),
        st.integers(min_value=1, max_value=4 * 24 * 60),  # minutes later
        st.sampled_from(["P1", "P2", "P3", "P4"]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    first_priority=st.sampled_from(["P1", "P2", "P3", "P4"]),
    actions=ACTIONS,
)
def test_the_timeline_explains_every_stored_due_time(berlin_org, staff, start, first_priority, actions):
    """Random histories (any start, both DST switches, weekends, the holiday; pauses, priority
    changes, replies, resolutions and reopenings): every step's arithmetic gives back its due
    time, and the last step of each clock holds the due time stored on the ticket."""
    for priority in ("P1", "P2"):
        factories.priority(berlin_org, priority).next_response_minutes = 30 if priority == "P1" else 90
    agent, employee = staff["agent"], staff["employee"]
    now = start.replace(tzinfo=UTC)
    ticket = tickets.create_ticket(
        agent, title="Random", priority=factories.priority(berlin_org, first_priority), requester=employee, now=now
    )
    for action, minutes, priority in actions:
        now += timedelta(minutes=minutes)
        try:
            with _db.session.begin_nested():
                if action == "priority":
                    tickets.change_priority(agent, ticket, factories.priority(berlin_org, priority), now=now)
                elif action == "staff_reply":
                    tickets.add_comment(agent, ticket, "An answer", now=now)
                elif action == "requester_reply":
                    tickets.add_comment(employee, ticket, "More detail", now=now)
                elif action == "note":
                    tickets.add_comment(agent, ticket, "A note", internal=True, now=now)
                else:
                    tickets.transition(agent, ticket, action, now=now)
        except DomainError:
            pass  # not possible in the ticket's state: history goes on
    _db.session.flush()
    line = sla_timeline.timeline(ticket, now=now)
    assert line.explained, [
        (c.clock, c.cycle, [(s.kind, s.due_at, s.replayed_due) for s in c.steps])
        for c in line.clocks
        if not c.explained
    ]
    for name in sla.CLOCKS:
        current = clock(line, name, ticket.next_response_cycle if name == "next_response" else 0)
        assert current.due_at == getattr(ticket, f"{name}_due_at")
        arithmetic = [s for s in current.steps if s.base_at is not None]
        if current.due_at is not None:
            assert arithmetic and arithmetic[-1].replayed_due == current.due_at
    _db.session.rollback()  # the next example starts from the same organization


def test_a_warning_overtaken_during_downtime_says_why_no_one_was_told(app, berlin_org, staff):
    p1 = factories.priority(berlin_org, "P1")  # 24x7: warning at 11 min 15 s, due at 15 min
    ticket = tickets.create_ticket(
        staff["agent"],
        title="Core switch down",
        priority=p1,
        requester=staff["employee"],
        now=berlin(2026, 11, 23, 22, 0),
    )
    _db.session.commit()
    sla.sweep(berlin(2026, 11, 23, 23, 0))  # the first sweep after the jobs were down for an hour
    _db.session.commit()
    first = clock(sla_timeline.timeline(ticket, now=berlin(2026, 11, 23, 23, 5)), "first_response")
    warning, breach = first.moments
    assert (warning.kind, warning.overtaken, warning.notified, warning.emails) == ("warning", True, [], [])
    assert (breach.kind, breach.overtaken) == ("breach", False)

    client = app.test_client()
    login(client, staff["agent"])
    page = client.get(f"/agent/tickets/{ticket.reference}/sla").get_data(as_text=True)
    assert "Not sent: the deadline had already passed" in page
    from tests.helpers import token_for

    api = app.test_client()
    body = api.get(
        f"/api/v1/tickets/{ticket.reference}/sla", headers={"Authorization": f"Bearer {token_for(api, staff['agent'])}"}
    ).get_json()
    moments = next(c for c in body["clocks"] if c["clock"] == "first_response")["moments"]
    assert [m["overtaken"] for m in moments] == [True, False]


def test_each_moment_names_only_the_people_its_own_notices_went_to(client, berlin_org, staff):
    manager, admin = factories.make_user(berlin_org, "manager"), factories.admin_of(berlin_org)
    p1 = factories.priority(berlin_org, "P1")  # 24x7: first response 15 minutes, resolution 2 hours
    start = berlin(2026, 11, 23, 10, 0)
    ticket = tickets.create_ticket(
        staff["agent"], title="Core switch down", priority=p1, requester=staff["employee"], now=start
    )
    tickets.assign(staff["agent"], ticket, staff["agent"], now=start + MIN)
    _db.session.commit()
    # One late sweep: the first response's warning is overtaken by its breach, the resolution's
    # warning (at 90 minutes) is told, and levels 1-3 all come at once, one person each.
    sla.sweep(start + 100 * MIN)
    sla.sweep(start + 16 * MIN + 240 * MIN)
    line = sla_timeline.timeline(ticket, start + 300 * MIN)
    first, resolution = clock(line, "first_response"), clock(line, "resolution")
    assert [(m.kind, m.notified) for m in first.moments] == [("warning", []), ("breach", [staff["agent"].name])]
    assert [(m.kind, m.notified) for m in resolution.moments] == [
        ("warning", [staff["agent"].name]),
        ("breach", [staff["agent"].name]),
    ]
    assert [(m.level, m.notified, [e.recipient for e in m.emails]) for m in line.escalations] == [
        (1, [staff["lead"].name], [staff["lead"].email]),
        (2, [manager.name], [manager.email]),
        (3, [admin.name], [admin.email]),
    ]

    login(client, staff["agent"])
    page = client.get(f"/agent/tickets/{ticket.reference}/sla").get_data(as_text=True)
    ladder = page[page.index('id="sla-escalations"') :]
    levels = ladder.split('data-kind="escalation"')[1:]
    assert len(levels) == 3
    for level, (person, others) in zip(
        levels,
        [(staff["lead"], (manager, admin)), (manager, (staff["lead"], admin)), (admin, (staff["lead"], manager))],
        strict=True,
    ):
        assert f"Told in the app: {person.name}." in level
        assert all(other.name not in level for other in others)
