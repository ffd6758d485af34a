"""The agent's queues: views, filters, search and keyset pages, never beyond what they may see."""
import re
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from autotrack.extensions import db as _db
from autotrack.models import utcnow
from autotrack.services import queues, tickets
from tests import factories
from tests.conftest import login


@pytest.fixture
def desk(org, other_org):
    agent = factories.make_user(org, "agent", name="Ann Agent")
    colleague = factories.make_user(org, "agent", name="Bob Agent")
    requester = factories.make_user(org)
    printers = factories.make_category(org, "IT/Hardware/Printer")
    laptops = factories.make_category(org, "IT/Hardware/Laptop")
    facilities = factories.make_category(org, "Facilities/Heating")
    now = utcnow()

    def ticket(title, priority="P3", category=None, assignee=None, age=timedelta(minutes=1)):
        made = tickets.create_ticket(agent, title=title, requester=requester, priority=factories.priority(org, priority),
                                     category=category, now=now - age)
        if assignee:
            tickets.transition(agent, made, "assign", assignee=assignee, now=now - age)
        _db.session.commit()
        return made

    made = {
        "printer": ticket("Printer jams on page 2", category=printers, assignee=agent),
        "laptop": ticket("Laptop battery swollen", "P1", category=laptops, assignee=colleague),
        "heating": ticket("Radiator cold", category=facilities),
        "late": ticket("Server room too hot", "P1", age=timedelta(hours=3)),  # P1 overdue
        "risky": ticket("VPN slow", "P1", age=timedelta(minutes=13)),  # past 75% of 15 min
    }
    other_agent = factories.make_user(other_org, "agent")
    tickets.create_ticket(other_agent, title="Printer jams at Globex", requester=factories.make_user(other_org),
                          priority=factories.priority(other_org, "P1"))
    _db.session.commit()
    made.update(agent=agent, colleague=colleague, now=now, printers=printers)
    return made


def titles(user, **args):
    items, _ = queues.page(user, queues.Filters.parse(user, MultiDict(args)))
    return sorted(t.title for t in items)


def test_views(org, desk):
    agent = desk["agent"]
    assert titles(agent, view="mine") == ["Printer jams on page 2"]
    assert titles(agent, view="unassigned") == ["Radiator cold", "Server room too hot", "VPN slow"]
    assert len(titles(agent, view="open")) == 5


def test_filters_narrow_the_queue(org, desk):
    agent = desk["agent"]
    p1 = factories.priority(org, "P1")
    assert titles(agent, priority=str(p1.id)) == ["Laptop battery swollen", "Server room too hot", "VPN slow"]
    hardware = desk["printers"].parent  # IT/Hardware: both of its children
    assert titles(agent, category=str(hardware.id)) == ["Laptop battery swollen", "Printer jams on page 2"]
    assert titles(agent, assignee=str(desk["colleague"].id)) == ["Laptop battery swollen"]
    assert titles(agent, assignee="none", sla="breached") == ["Server room too hot"]
    assert titles(agent, sla="at_risk") == ["VPN slow"]
    assert "Server room too hot" not in titles(agent, sla="on_track")


def test_search_by_number_or_words_stays_in_the_organization(org, desk):
    agent = desk["agent"]
    assert titles(agent, q=desk["laptop"].reference) == ["Laptop battery swollen"]
    assert titles(agent, q=str(desk["laptop"].number)) == ["Laptop battery swollen"]
    assert titles(agent, q="printer jams") == ["Printer jams on page 2"]  # not Globex's
    assert titles(agent, q="100%_") == []  # LIKE wildcards are literal


def test_the_at_risk_queue_runs_soonest_deadline_first_across_pages(org, desk, monkeypatch):
    monkeypatch.setattr(queues, "PER_PAGE", 1)
    agent = desk["agent"]
    filters = queues.Filters.parse(agent, MultiDict({"view": "at_risk"}))
    first, cursor = queues.page(agent, filters)
    second, last_cursor = queues.page(agent, filters, cursor)
    assert [t.title for t in first + second] == ["Server room too hot", "VPN slow"]
    assert last_cursor is None


@pytest.mark.parametrize("args", [{"status": "abc"}, {"priority": "-1"}, {"category": "1,2"}, {"sla": "late"},
                                  {"assignee": "999999"}, {"view": "secret"}, {"cursor": "x_y"}])
def test_odd_parameters_are_ignored_not_errors(client, org, desk, args):
    login(client, desk["agent"])
    response = client.get("/agent/", query_string={"view": "at_risk", **args})
    assert response.status_code == 200


def test_another_organizations_filter_ids_do_not_apply(org, other_org, desk):
    theirs = factories.priority(other_org, "P1")
    agent = desk["agent"]
    assert len(titles(agent, priority=str(theirs.id))) == 5  # ignored, not matched


def test_the_queue_page_keeps_filters_on_the_next_page_link(client, org, desk, monkeypatch):
    monkeypatch.setattr(queues, "PER_PAGE", 2)
    login(client, desk["agent"])
    page = client.get("/agent/", query_string={"view": "open", "q": "a"}).get_data(as_text=True)
    more = re.search(r'href="([^"]*cursor=[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "q=a" in more and "view=open" in more
    following = client.get(more).get_data(as_text=True)
    assert following.count('href="/agent/tickets/') >= 1
