"""The console's SLA dashboard: real tickets through the real services and sweep, then the figures."""

from datetime import timedelta

import pytest

from autotrack.extensions import db as _db
from autotrack.models import utcnow
from autotrack.services import sla, tickets
from autotrack.services.org import dashboard
from tests import factories
from tests.conftest import login


@pytest.fixture
def history(org, other_org):
    """Acme: P1 tickets, some answered in time, one breached and escalated; Globex: noise."""
    now = utcnow()
    agent = factories.make_user(org, "agent")
    factories.make_user(org, "agent", lead=True)
    requester = factories.make_user(org)
    p1 = factories.priority(org, "P1")  # 24x7: 15 min first response, 2 h resolution

    def ticket(created, **kwargs):
        made = tickets.create_ticket(agent, title="Printer", requester=requester, priority=p1, now=created, **kwargs)
        _db.session.commit()
        return made

    # Two answered after 5 and 10 minutes, one of them resolved after an hour.
    quick = ticket(now - timedelta(days=2))
    tickets.add_comment(agent, quick, "On it", now=quick.created_at + timedelta(minutes=5))
    tickets.transition(agent, quick, "assign", assignee=agent, now=quick.created_at + timedelta(minutes=6))
    tickets.transition(agent, quick, "resolve", now=quick.created_at + timedelta(hours=1))
    slower = ticket(now - timedelta(days=2))
    tickets.add_comment(agent, slower, "Looking", now=slower.created_at + timedelta(minutes=10))
    # One nobody answered: the sweep breaches its first response and escalates it.
    late = ticket(now - timedelta(hours=5))
    # An old one, still open, in a department of its own.
    facilities = factories.make_department(org, "Facilities")
    ticket(now - timedelta(days=40), department=facilities)
    _db.session.commit()
    sla.sweep(now)
    _db.session.commit()
    # Globex's breaches must not show up in Acme's figures.
    other_agent = factories.make_user(other_org, "agent")
    tickets.create_ticket(
        other_agent,
        title="X",
        requester=factories.make_user(other_org),
        priority=factories.priority(other_org, "P1"),
        now=now - timedelta(days=3),
    )
    _db.session.commit()
    sla.sweep(now)
    _db.session.commit()
    return {"now": now, "late": late}


def test_figures_come_from_the_organizations_tickets(org, history):
    board = dashboard.build(org.id, now=history["now"])
    assert board.open_total == 3  # quick is resolved
    assert dict(board.by_priority)["P1"] == 3 and dict(board.by_priority)["P4"] == 0
    assert dict(board.aging) == {"under 1 day": 1, "1–3 days": 1, "3–7 days": 0, "1–4 weeks": 0, "over 4 weeks": 1}
    first = board.compliance["first_response"][7]
    # Two answered in time; breached: late, and the 40-day-old ticket breached on this sweep.
    assert (first["met"], first["breached"]) == (2, 2) and first["percent"] == 50.0
    month = board.compliance["first_response"][30]
    assert month["median_seconds"] == 300  # of 5 and 10 minutes, the lower middle
    resolution = board.compliance["resolution"][30]
    assert resolution["met"] == 1 and resolution["median_seconds"] == 3600
    departments = {row[0]: row[1:] for row in board.by_department}
    assert departments["Support"][0] >= 1 and departments["Facilities"][0] >= 1  # breaches this week
    assert departments["Support"][3] >= 1  # escalated to the lead


def test_an_empty_organization_shows_dashes_not_errors(client, org):
    login(client, factories.admin_of(org))
    page = client.get("/admin/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="open-total">0<' in text and "No breaches or escalations" in text
    assert "median first response" in text


def test_the_dashboard_page_shows_the_figures_and_loads_charts_locally(client, org, history):
    login(client, factories.admin_of(org))
    text = client.get("/admin/").get_data(as_text=True)
    assert 'id="open-total">3<' in text
    assert "/static/vendor/chartjs/chart.umd.min.js" in text and "cdn" not in text.lower()
    assert "Facilities" in text and "50.0%" in text
    assert client.get("/static/vendor/chartjs/chart.umd.min.js").status_code == 200


@pytest.mark.parametrize("role", ["manager", "agent", "employee"])
def test_only_org_admins_see_the_dashboard(client, org, role):
    login(client, factories.make_user(org, role))
    assert client.get("/admin/").status_code == 403
