"""The agent's queues: views, filters, search and keyset pages, never beyond what they may see."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from autotrack.extensions import db as _db
from autotrack.models import Ticket, utcnow
from autotrack.services import tickets
from autotrack.services.tickets import queues
from autotrack.web.queue_args import filter_args
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
        made = tickets.create_ticket(
            agent,
            title=title,
            requester=requester,
            priority=factories.priority(org, priority),
            category=category,
            now=now - age,
        )
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
    tickets.create_ticket(
        other_agent,
        title="Printer jams at Globex",
        requester=factories.make_user(other_org),
        priority=factories.priority(other_org, "P1"),
        now=utcnow(),
    )
    _db.session.commit()
    made.update(agent=agent, colleague=colleague, now=now, printers=printers)
    return made


def titles(user, **args):
    items, _ = queues.page(user, queues.Filters.parse(user, filter_args(args)), now=utcnow())
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


@pytest.mark.parametrize(
    "q, expected",
    [
        ("print", ["Printer jams on page 2"]),  # the start of a word finds the word
        ("JAMS printer", ["Printer jams on page 2"]),  # any order, any case
        ("on page 2", ["Printer jams on page 2"]),  # short words too (InnoDB's index skips them)
        ("swollen bulging", []),  # every word must be there
        ("cafe", ["Café machine leaking"]),  # accents do not matter
        ("descaling", ["Café machine leaking"]),  # the description is searched too
        ("the", ["Café machine leaking"]),  # no stopwords
        ("ator", []),  # words, not fragments inside them
        ('"', []),  # no words at all: nothing, not an error
    ],
)
def test_word_search_finds_every_word_in_title_or_description(org, desk, q, expected):
    agent = desk["agent"]
    tickets.create_ticket(
        agent,
        title="Café machine leaking",
        description="It needs descaling after the weekend",
        requester=desk["agent"],
        priority=factories.priority(org, "P3"),
        now=utcnow(),
    )
    _db.session.commit()
    assert titles(agent, q=q) == expected


def test_a_ticket_is_found_by_its_words_as_soon_as_it_is_saved(org, desk):
    """Guards the full-text index's upkeep (SQLite triggers of migration 0005: a later table
    rebuild on `tickets` would drop them)."""
    agent = desk["agent"]
    tickets.create_ticket(
        agent, title="Projector flickers", requester=agent, priority=factories.priority(org, "P3"), now=utcnow()
    )
    _db.session.commit()
    assert titles(agent, q="flickers") == ["Projector flickers"]


def test_the_at_risk_queue_runs_soonest_deadline_first_across_pages(org, desk, monkeypatch):
    monkeypatch.setattr(queues, "PER_PAGE", 1)
    agent = desk["agent"]
    filters = queues.Filters.parse(agent, queues.FilterArgs(view="at_risk"))
    first, cursor = queues.page(agent, filters, now=utcnow())
    second, last_cursor = queues.page(agent, filters, cursor, now=utcnow())
    assert [t.title for t in first + second] == ["Server room too hot", "VPN slow"]
    assert last_cursor is None


@pytest.mark.parametrize(
    "args",
    [
        {"status": "abc"},
        {"priority": "-1"},
        {"category": "1,2"},
        {"sla": "late"},
        {"assignee": "999999"},
        {"view": "secret"},
        {"cursor": "x_y"},
    ],
)
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
    for floor in range(3):
        tickets.create_ticket(
            desk["agent"],
            title=f"Badge reader dead on floor {floor}",
            requester=desk["agent"],
            priority=factories.priority(org, "P3"),
            now=utcnow(),
        )
    _db.session.commit()
    login(client, desk["agent"])
    page = client.get("/agent/", query_string={"view": "open", "q": "badge"}).get_data(as_text=True)
    more = re.search(r'href="([^"]*cursor=[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "q=badge" in more and "view=open" in more
    following = client.get(more).get_data(as_text=True)
    assert following.count('href="/agent/tickets/') >= 1


def test_the_at_risk_queue_reads_every_lane_in_deadline_order(org, monkeypatch):
    """The at-risk page is assembled lane by lane (each department, own tickets, assigned to
    me); pages walked two at a time must list exactly what one sort of all visible at-risk
    tickets gives, for an agent in two departments and for an admin who sees everything."""
    from autotrack.models import MemberRole
    from autotrack.services import sla
    from autotrack.services.org import orgs

    monkeypatch.setattr(queues, "PER_PAGE", 2)
    hardware, network, payroll = (orgs.create_department(org, name) for name in ("Hardware", "Network", "Payroll"))
    agent = factories.make_user(org, "agent", department=hardware)
    orgs.add_member(network, agent, MemberRole.AGENT)
    requester, admin = factories.make_user(org), factories.admin_of(org)
    # A fixed working-day afternoon: the P2 tickets' clocks run on business hours, so with the
    # real clock which ones are at risk changed with the time of day (the test failed after 17:00).
    now = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    for i in range(14):
        department = (hardware, network, payroll)[i % 3]
        own = department is payroll and i % 2  # raised by the agent themselves
        tickets.create_ticket(
            admin,
            title=f"T{i}",
            requester=agent if own else requester,
            department=department,
            priority=factories.priority(org, ("P1", "P2")[i % 2]),
            now=now - timedelta(minutes=7 * i + 5),
        )
    _db.session.commit()

    def walk(user, view="at_risk"):
        filters = queues.Filters.parse(user, queues.FilterArgs(view=view))
        seen, cursor = [], None
        while True:
            items, cursor = queues.page(user, filters, cursor, now=now)
            seen += [t.title for t in items]
            if cursor is None:
                return seen

    def expected(user):
        visible = _db.session.scalars(queues.visible_tickets(user)).all()
        risky = [t for t in visible if sla.status_of(t, now).state in ("at_risk", "breached")]
        return [t.title for t in sorted(risky, key=lambda t: (t.resolution_due_at, t.id))]

    mine = walk(agent)
    assert mine == expected(agent) and len(mine) >= 5
    assert "T11" in mine and not {"T2", "T8"} & set(mine)  # of payroll's, only those they raised
    everything = walk(admin)
    assert everything == expected(admin) and len(everything) > len(mine)

    # The newest-first views are read lane by lane too.
    visible = _db.session.scalars(queues.visible_tickets(agent).order_by(Ticket.id.desc())).all()
    assert walk(agent, "all") == [t.title for t in visible] and len(visible) == 12
    tickets.transition(admin, visible[0], "resolve", now=now)
    _db.session.commit()
    assert walk(agent, "open") == [t.title for t in visible[1:]]


def test_a_request_query_becomes_typed_filter_args():
    """The web layer reads the query's names (first value each; missing or empty is ""), the
    service gets a plain value with no request type in it."""
    from werkzeug.datastructures import MultiDict

    args = filter_args(
        MultiDict([("view", "mine"), ("status", "7"), ("status", "8"), ("q", " vpn "), ("cursor", "99"), ("sla", "")])
    )
    assert args == queues.FilterArgs(view="mine", status="7", q=" vpn ")
    assert filter_args({}) == queues.FilterArgs()


@pytest.mark.parametrize("view", ["all", "open", "mine"])
def test_list_rows_are_the_tickets_of_the_queue_page(org, desk, view):
    """page_rows (the API's list) and page (the agent portal's) share one query building."""
    agent = desk["agent"]
    filters = queues.Filters.parse(agent, filter_args({"view": view}))
    entities, cursor = queues.page(agent, filters, now=utcnow())
    rows, row_cursor = queues.page_rows(agent, filters, now=utcnow())
    assert [(r.id, r.title, r.status_name, r.requester_name) for r in rows] == [
        (t.id, t.title, t.status.name, t.requester.name) for t in entities
    ]
    assert row_cursor == cursor


def test_a_department_lane_never_walks_the_primary_key_on_mariadb(org, desk):
    """MariaDB took the primary key (id order, estimated as if a department's tickets were spread
    evenly) and read past every newer ticket of other departments: the lane says not to. SQLite
    reads the page in one pass, without lanes or hints."""
    from sqlalchemy import event

    from autotrack.services.sqlutil import dialect_name

    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(_db.engine, "before_cursor_execute", capture)
    try:
        queues.page_rows(desk["agent"], queues.Filters(view="all"), now=utcnow())
    finally:
        event.remove(_db.engine, "before_cursor_execute", capture)
    page = seen[-1]
    if dialect_name() == "sqlite":
        assert "UNION" not in page and "INDEX" not in page
        return
    assert page.count("IGNORE INDEX (PRIMARY)") == 1
    assert page.count("USE INDEX (ix_tickets_requester, ft_tickets_text)") == 1  # the agent's own tickets
    department_lane = r"FROM tickets IGNORE INDEX \(PRIMARY\)\s+WHERE tickets\.org_id = \S+ AND tickets\.department_id"
    assert re.search(department_lane, page)
