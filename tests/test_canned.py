"""Canned replies: the organization's (console) and an agent's own (agent portal), filled in
for the ticket by Jinja's sandbox; hostile placeholders are refused, other people's are 404."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import CannedReply
from autotrack.models.types import utcnow
from autotrack.services import tickets
from autotrack.services.errors import Forbidden, NotFound, ValidationError
from autotrack.services.tickets import canned
from tests import factories
from tests.conftest import login, post_form

HOSTILE = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # the classic sandbox escape
    "{{ requester.__class__ }}",
    "{{ config }}",  # nothing of the app is in reach
    "{{ ticket.secret }}",
    "{% for x in range(10**9) %}{% endfor %}{{ 1 }",  # not even valid
    "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}",  # a CPU bomb
    "{{ ticket.title * 100000000 }}",  # a memory bomb
    "{{ ticket.title | upper }}",  # no filters either: placeholders only
]


@pytest.fixture
def desk(org):
    agent = factories.make_user(org, "agent", name="Sam Agent")
    ticket = tickets.create_ticket(factories.make_user(org, name="Ada Lovelace"), title="Printer jams", now=utcnow())
    _db.session.add(
        CannedReply(
            org_id=org.id,
            title="Restart first",
            body="Hello {{ requester.first_name }},\nplease restart it ({{ ticket.reference }}).\n-- {{ agent.name }}",
        )
    )
    _db.session.commit()
    return {"agent": agent, "ticket": ticket, "shared": _db.session.scalar(select(CannedReply))}


def test_a_canned_reply_is_filled_in_for_the_ticket(org, desk):
    text = canned.fill(desk["agent"], desk["shared"].id, desk["ticket"])
    assert text == f"Hello Ada,\nplease restart it ({desk['ticket'].reference}).\n-- Sam Agent"


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_placeholders_are_refused_when_saved_and_when_used(org, desk, body):
    with pytest.raises(ValidationError):
        canned.save_own(desk["agent"], "Evil", body, now=utcnow())
    _db.session.rollback()
    sneaked = CannedReply(org_id=org.id, owner_id=None, title="Sneaked in", body=body)  # say, by raw SQL
    _db.session.add(sneaked)
    _db.session.commit()
    with pytest.raises(ValidationError):
        canned.fill(desk["agent"], sneaked.id, desk["ticket"])


def test_own_replies_are_private_and_another_organizations_are_not_found(org, other_org, desk):
    mine = canned.save_own(desk["agent"], "My sign-off", "Cheers, {{ agent.first_name }}", now=utcnow())
    _db.session.commit()
    colleague = factories.make_user(org, "agent")
    assert [c.title for c in canned.available(desk["agent"])] == ["My sign-off", "Restart first"]
    assert [c.title for c in canned.available(colleague)] == ["Restart first"]
    assert [c.title for c in canned.available(desk["agent"], "restart")] == ["Restart first"]
    with pytest.raises(NotFound):
        canned.get_for(colleague, mine.id)
    with pytest.raises(NotFound):
        canned.get_for(factories.make_user(other_org, "agent"), desk["shared"].id)
    employee = factories.make_user(org)
    with pytest.raises(Forbidden):
        canned.save_own(employee, "Nope", "text", now=utcnow())


def test_the_reply_box_gets_it_as_json_or_without_javascript(client, org, desk):
    login(client, desk["agent"])
    ref = desk["ticket"].reference
    listed = client.get(f"/agent/tickets/{ref}/canned?q=restart").get_json()
    assert listed == [{"id": desk["shared"].id, "title": "Restart first", "shared": True}]
    filled = client.get(f"/agent/tickets/{ref}/canned/{desk['shared'].id}").get_json()
    assert filled["text"].startswith("Hello Ada,")
    assert client.get(f"/agent/tickets/{ref}/canned/999999").status_code == 404
    page = client.get(f"/agent/tickets/{ref}?canned={desk['shared'].id}").get_data(as_text=True)
    assert "Hello Ada," in page and 'id="canned-picker"' in page


def test_agents_keep_their_own_in_the_portal_and_admins_the_organizations_in_the_console(client, org, desk):
    login(client, desk["agent"])
    refused = post_form(client, "/agent/canned", {"title": "Evil", "body": HOSTILE[0]}, token_from="/agent/canned")
    assert refused.status_code == 400 and "cannot be filled in" in refused.get_data(as_text=True)
    saved = post_form(
        client,
        "/agent/canned",
        {"title": "Thanks", "body": "Thanks, {{ requester.first_name }}!"},
        token_from="/agent/canned",
    )
    assert saved.status_code == 302
    mine = _db.session.scalar(select(CannedReply).where(CannedReply.title == "Thanks"))
    assert mine.owner_id == desk["agent"].id

    admin = factories.admin_of(org)
    client.post("/logout", data={"csrf_token": __import__("tests.conftest").conftest.csrf_token(client, "/agent/")})
    login(client, admin)
    listing = client.get("/admin/cannedreply/").get_data(as_text=True)
    assert "Restart first" in listing and "Thanks" not in listing  # agents' own stay theirs
    bad = post_form(
        client, "/admin/cannedreply/new/", {"title": "Evil", "body": HOSTILE[1]}, token_from="/admin/cannedreply/new/"
    )
    assert bad.status_code == 200 and "Only these placeholders work" in bad.get_data(as_text=True)
    good = post_form(
        client,
        "/admin/cannedreply/new/",
        {"title": "Closing", "body": "Closing {{ ticket.reference }}."},
        token_from="/admin/cannedreply/new/",
    )
    assert good.status_code == 302
    shared = _db.session.scalar(select(CannedReply).where(CannedReply.title == "Closing"))
    assert (shared.org_id, shared.owner_id) == (org.id, None)


def test_the_api_lists_and_fills_them(client, org, other_org, desk):
    from tests.helpers import token_for

    headers = {"Authorization": f"Bearer {token_for(client, desk['agent'])}"}
    listed = client.get("/api/v1/canned-replies?q=restart", headers=headers).get_json()
    assert listed == [{"id": desk["shared"].id, "title": "Restart first", "shared": True}]
    filled = client.get(
        f"/api/v1/tickets/{desk['ticket'].reference}/canned-replies/{desk['shared'].id}", headers=headers
    )
    assert filled.status_code == 200 and filled.get_json()["text"].startswith("Hello Ada,")
    stranger = {"Authorization": f"Bearer {token_for(client, factories.make_user(other_org, 'agent'))}"}
    assert client.get("/api/v1/canned-replies", headers=stranger).get_json() == []
    assert (
        client.get(
            f"/api/v1/tickets/{desk['ticket'].number}/canned-replies/{desk['shared'].id}", headers=stranger
        ).status_code
        == 404
    )


def test_nobody_deletes_anothers_canned_reply(client, org, other_org, desk):
    from tests.conftest import csrf_token

    mine = canned.save_own(desk["agent"], "Mine", "Mine, {{ agent.name }}", now=utcnow())
    _db.session.commit()
    login(client, factories.make_user(org, "agent"))
    token = csrf_token(client, "/agent/canned")
    assert client.post(f"/agent/canned/{mine.id}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/agent/canned/{desk['shared'].id}/delete", data={"csrf_token": token}).status_code == 404
    assert _db.session.get(CannedReply, mine.id) is not None
