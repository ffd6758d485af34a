"""The ticket workflow through the web pages: forms, messages, what each side sees."""

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Ticket
from autotrack.models.types import utcnow
from tests import factories
from tests.conftest import csrf_token, login, post_form


def test_employee_raises_a_ticket_through_the_form(client, org):
    category = factories.make_category(org, "IT/Hardware/Laptop", default_priority="P2")
    employee = factories.make_user(org)
    login(client, employee)
    response = post_form(
        client,
        "/portal/tickets/new",
        {
            "title": "Laptop will not boot",
            "description": "Black screen.",
            "category_id": str(category.id),
        },
        token_from="/portal/tickets/new",
    )
    assert response.status_code == 302
    ticket = _db.session.scalar(select(Ticket))
    assert response.headers["Location"] == f"/portal/tickets/{ticket.reference}"
    assert (ticket.title, ticket.priority.name, ticket.requester_id) == ("Laptop will not boot", "P2", employee.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Laptop will not boot" in page and "raised" in page


def test_blank_title_re_renders_the_form_with_its_message_and_saves_nothing(client, org):
    login(client, factories.make_user(org))
    response = post_form(
        client, "/portal/tickets/new", {"title": "  ", "description": "kept text"}, token_from="/portal/tickets/new"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This field is required." in page and "kept text" in page
    assert _db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_foreign_category_id_in_the_form_is_refused(client, org, other_org):
    foreign = factories.make_category(other_org, "Secret")
    login(client, factories.make_user(org))
    response = post_form(
        client, "/portal/tickets/new", {"title": "x", "category_id": str(foreign.id)}, token_from="/portal/tickets/new"
    )
    assert response.status_code == 422
    assert _db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_employee_never_sees_internal_notes(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket_in("open", employee, agent)
    from autotrack.services import tickets

    tickets.add_comment(agent, ticket, "Public answer", now=utcnow())
    tickets.add_comment(agent, ticket, "Secret staff note", internal=True, now=utcnow())
    _db.session.commit()
    login(client, employee)
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Public answer" in page and "Secret staff note" not in page


def test_employee_reply_cannot_be_smuggled_in_as_internal(client, org):
    employee = factories.make_user(org)
    ticket = factories.make_ticket(employee)
    login(client, employee)
    post_form(
        client, f"/portal/tickets/{ticket.reference}/comments", {"body": "hi", "internal": "y"}, token_from="/portal/"
    )
    _db.session.expire_all()
    assert [c.internal for c in _db.session.get(Ticket, ticket.id).comments] == [False]


def test_agent_works_a_ticket_from_new_to_resolved(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket(employee)
    login(client, agent)
    path = f"/agent/tickets/{ticket.reference}"
    assert "Assign" in client.get(path).get_data(as_text=True)
    post_form(client, f"{path}/transitions", {"action": "assign", "assignee_id": str(agent.id)}, token_from=path)
    post_form(client, f"{path}/comments", {"body": "Fixed the cable."}, token_from=path)
    response = post_form(client, f"{path}/transitions", {"action": "resolve"}, token_from=path)
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "is now Resolved" in page
    _db.session.expire_all()
    ticket = _db.session.get(Ticket, ticket.id)
    assert (ticket.state, ticket.assignee_id) == ("resolved", agent.id)
    assert ticket.first_response_at is not None


def test_invalid_transition_in_the_browser_shows_why_and_changes_nothing(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket(employee)
    events = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    login(client, agent)
    path = f"/agent/tickets/{ticket.reference}"
    response = post_form(client, f"{path}/transitions", {"action": "close"}, token_from=path)
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert f"Cannot close ticket {ticket.reference}: it is New (new)." in page
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "new"
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.parametrize("state", ["pending", "resolved"])
def test_the_requesters_reply_in_the_portal_answers_the_wait(client, org, state):
    """Pending waits for the requester and resolved for their confirmation: their reply ends
    either, as a reply by mail does (the clocks run again)."""
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket_in(state, employee, agent)
    login(client, employee)
    path = f"/portal/tickets/{ticket.reference}"
    post_form(client, f"{path}/comments", {"body": "It happened again this morning."}, token_from=path)
    _db.session.expire_all()
    reopened = _db.session.get(Ticket, ticket.id)
    assert reopened.state == "open" and reopened.paused_at is None and reopened.resolved_at is None
    assert reopened.sla_next_check_at is not None  # the sweep watches it again


def test_an_agents_reply_leaves_a_pending_ticket_pending(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket_in("pending", employee, agent)
    login(client, agent)
    path = f"/agent/tickets/{ticket.reference}"
    post_form(client, f"{path}/comments", {"body": "Any news on your side?"}, token_from=path)
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "pending"


def test_requester_confirms_resolution_from_the_portal(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket_in("resolved", employee, agent)
    login(client, employee)
    path = f"/portal/tickets/{ticket.reference}"
    assert "Confirm it is solved" in client.get(path).get_data(as_text=True)
    post_form(client, f"{path}/transitions", {"action": "close"}, token_from=path)
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "closed"


def test_employee_cannot_resolve_through_a_forged_form(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket_in("open", employee, agent)
    login(client, employee)
    path = f"/portal/tickets/{ticket.reference}"
    post_form(client, f"{path}/transitions", {"action": "resolve"}, token_from=path)
    assert "You may not resolve this ticket." in client.get(path).get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "open"


def test_queue_pages_with_keyset_cursor(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    created = [factories.make_ticket(employee, title=f"Ticket {i}") for i in range(55)]
    login(client, agent)
    first = client.get("/agent/").get_data(as_text=True)
    assert created[-1].reference in first and created[0].reference not in first
    cursor = min(t.id for t in created[5:])
    second = client.get(f"/agent/?cursor={cursor}").get_data(as_text=True)
    assert created[0].reference in second and created[-1].reference not in second


def test_manager_sees_open_counts_per_department(client, org):
    manager = factories.make_user(org, "manager")
    for _ in range(3):
        factories.make_ticket(factories.make_user(org))
    login(client, manager)
    page = client.get("/manager/").get_data(as_text=True)
    assert "<td>Support</td><td>3</td>" in page


def test_huge_or_garbage_ids_are_not_found_never_a_server_error(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket_in("open", employee, agent)
    login(client, agent)
    path = f"/agent/tickets/{ticket.reference}"
    huge = "99999999999999999999"
    assert client.get(f"/agent/?cursor={huge}").status_code == 200
    assert client.get(f"/agent/tickets/ACME-{huge}").status_code == 404
    for url, data in [
        (f"{path}/priority", {"priority_id": huge}),
        (f"{path}/transitions", {"action": "assign", "assignee_id": huge}),
        (f"{path}/transitions", {"action": "wait", "status_id": "abc"}),
    ]:
        response = post_form(client, url, data, token_from=path)
        assert response.status_code in (302, 404), url
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "open"


def test_two_agents_changing_one_ticket_at_once_do_not_lose_a_change(app, org):
    """The second writer, working from a stale read, gets a conflict instead of overwriting."""
    from sqlalchemy.orm.exc import StaleDataError

    from autotrack.models import User
    from autotrack.services import tickets as ticket_service

    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket_id, agent_id = factories.make_ticket_in("open", employee, agent).id, agent.id
    with app.app_context():  # request B reads the ticket ...
        stale, b_agent = _db.session.get(Ticket, ticket_id), _db.session.get(User, agent_id)
        assert stale.state == "open" and stale.status.name == "Open"
        with app.app_context():  # ... request A resolves it meanwhile ...
            ticket_service.transition(
                _db.session.get(User, agent_id), _db.session.get(Ticket, ticket_id), "resolve", now=utcnow()
            )
            _db.session.commit()
        with pytest.raises(StaleDataError):  # ... and B's "wait", based on its stale read, is refused
            ticket_service.transition(b_agent, stale, "wait", now=utcnow())
            _db.session.commit()
        _db.session.rollback()
    _db.session.expire_all()
    ticket = _db.session.get(Ticket, ticket_id)
    assert ticket.state == "resolved" and ticket.paused_at is None


def test_long_emoji_text_is_stored_whole(client, org):
    employee = factories.make_user(org)
    login(client, employee)
    text = "🔥" * 19000
    response = post_form(
        client, "/portal/tickets/new", {"title": "Fire", "description": text}, token_from="/portal/tickets/new"
    )
    assert response.status_code == 302
    assert _db.session.scalar(select(Ticket.description)) == text


def test_read_only_staff_cannot_reply_or_stop_the_clock(client, org):
    from autotrack.models import Role

    auditor = Role(org_id=org.id, name="Auditor", portal="manager")
    auditor.set_permissions({"report.view", "ticket.view_all"})
    _db.session.add(auditor)
    _db.session.commit()
    ticket = factories.make_ticket(factories.make_user(org))
    login(client, factories.make_user(org, "Auditor"))
    path = f"/agent/tickets/{ticket.reference}"
    post_form(client, f"{path}/comments", {"body": "I am just looking"}, token_from=path)
    _db.session.expire_all()
    ticket = _db.session.get(Ticket, ticket.id)
    assert ticket.comments == [] and ticket.first_response_at is None


def test_the_new_ticket_page_carries_the_category_tree_for_the_cascading_select(client, org, other_org):
    import html
    import json
    import re

    factories.make_category(org, "IT/Hardware/Laptop")
    factories.make_category(org, "IT/Software")
    retired = factories.make_category(org, "Old/Fax")
    retired.parent.is_active = False  # hidden with everything under it
    factories.make_category(other_org, "Globex/Secret")
    _db.session.commit()
    login(client, factories.make_user(org))
    page = client.get("/portal/tickets/new").get_data(as_text=True)
    tree = json.loads(html.unescape(re.search(r'data-tree="([^"]*)"', page).group(1)))

    def names(nodes):
        return {n["name"]: names(n["children"]) for n in nodes}

    assert names(tree) == {"IT": {"Hardware": {"Laptop": {}}, "Software": {}}}
    assert "category_picker.js" in page


def test_comments_show_as_typed_with_links_and_never_run_markup(client, org):
    """Stored XSS: what a requester types is shown as text on the agent's page; only http(s)
    addresses become links."""
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket(employee, description='<img src=x onerror="alert(1)"> see wiki')
    login(client, employee)
    post_form(
        client,
        f"/portal/tickets/{ticket.reference}/comments",
        {
            "body": '<script>alert("hi")</script> Log: https://intranet.example/logs?id=7&day=2. '
            "Not a link: javascript:alert(1)"
        },
        token_from="/portal/",
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    login(client, agent)
    page = client.get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in page
    assert (
        '<a href="https://intranet.example/logs?id=7&amp;day=2" rel="noopener noreferrer nofollow" '
        'target="_blank">https://intranet.example/logs?id=7&amp;day=2</a>. '
    ) in page
    assert 'href="javascript' not in page


# --- opening a ticket reads what one was told about it (issue 22) ----------------------------------


def _unread(user):
    from autotrack.models import Notification

    return dict(
        _db.session.execute(
            select(Notification.ticket_id, func.count())
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .group_by(Notification.ticket_id)
        ).all()
    )


def test_an_agent_opening_a_ticket_reads_its_notifications_and_only_those(client, org):
    agent = factories.make_user(org, "agent", department=factories.default_department(org))
    colleague = factories.make_user(org, "agent", department=factories.default_department(org))
    employee = factories.make_user(org)
    opened = factories.make_ticket(employee, title="Opened one")  # tells both agents: new ticket
    other = factories.make_ticket(employee, title="Still unread")
    assert _unread(agent) == {opened.id: 1, other.id: 1}

    login(client, agent)
    page = client.get(f"/agent/tickets/{opened.reference}").get_data(as_text=True)
    assert _unread(agent) == {other.id: 1}
    assert 'aria-label="Notifications, 1 unread"' in page  # the bell on that very page
    assert _unread(colleague) == {opened.id: 1, other.id: 1}  # someone else's stay unread


def test_an_employee_opening_their_ticket_reads_its_notifications(client, org):
    from autotrack.models.types import utcnow
    from autotrack.services import tickets

    agent = factories.make_user(org, "agent", department=factories.default_department(org))
    employee = factories.make_user(org)
    ticket = factories.make_ticket(employee)
    tickets.add_comment(agent, ticket, "Which floor?", now=utcnow())
    _db.session.commit()
    assert _unread(employee) == {ticket.id: 1}

    login(client, employee)
    assert client.get(f"/portal/tickets/{ticket.reference}").status_code == 200
    assert _unread(employee) == {}
