"""Merge a duplicate into another ticket and link related tickets: within one organization,
audited, and the duplicate's number leading to the ticket it was merged into."""

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, OutboxEmail, Ticket, TicketLink
from autotrack.models.types import utcnow
from autotrack.services import tickets
from autotrack.services.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from autotrack.services.tenancy import ticket_for
from autotrack.services.tickets import attachments, watchers
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture
def pair(org):
    ada, agent = factories.make_user(org, name="Ada Lovelace"), factories.make_user(org, "agent", name="Sam")
    original = tickets.create_ticket(ada, title="VPN drops every hour", now=utcnow())
    duplicate = tickets.create_ticket(ada, title="VPN keeps disconnecting", now=utcnow())
    tickets.add_comment(ada, duplicate, "It happened again at 10:05", now=utcnow())
    tickets.add_task(agent, duplicate, "Check the VPN logs", now=utcnow())
    attachments.add_many(ada, duplicate, [FileStorage(io.BytesIO(b"log line\n"), filename="vpn.log")])
    _db.session.commit()
    return {"ada": ada, "agent": agent, "original": original, "duplicate": duplicate}


def test_a_merged_duplicate_moves_over_closes_and_leads_to_the_other(org, pair):
    original, duplicate = pair["original"], pair["duplicate"]
    tickets.merge(pair["agent"], duplicate, original, now=utcnow())
    _db.session.commit()
    _db.session.expire_all()
    assert [c.body for c in original.comments] == ["It happened again at 10:05"]
    assert [t.title for t in original.tasks] == ["Check the VPN logs"]
    assert [a.filename for a in original.attachments] == ["vpn.log"]
    assert (duplicate.state, duplicate.merged_into_id, duplicate.sla_next_check_at) == ("closed", original.id, None)
    assert ticket_for(pair["agent"], duplicate.reference) == original  # its number leads there
    assert ticket_for(pair["ada"], str(duplicate.number)) == original
    history = [(e.ticket_id, e.action) for e in tickets.history(original)]
    assert (duplicate.id, "create") in history and (duplicate.id, "merge") in history  # both trails, none moved
    assert (
        _db.session.scalar(
            select(AuditEvent.detail).where(AuditEvent.ticket_id == original.id, AuditEvent.action == "merge")
        )
        == f"{duplicate.reference} merged into this ticket"
    )


def test_what_cannot_be_merged_is_refused_and_nothing_changes(org, other_org, pair):
    agent, original, duplicate = pair["agent"], pair["original"], pair["duplicate"]
    with pytest.raises(ValidationError):
        tickets.merge(agent, duplicate, duplicate, now=utcnow())
    foreign = factories.make_ticket(factories.make_user(other_org))
    with pytest.raises((ValidationError, Forbidden)):
        tickets.merge(agent, duplicate, foreign, now=utcnow())
    with pytest.raises(Forbidden):
        tickets.merge(pair["ada"], duplicate, original, now=utcnow())  # requesters do not merge
    tickets.transition(agent, original, "resolve", now=utcnow())
    tickets.transition(pair["ada"], original, "close", now=utcnow())
    with pytest.raises(InvalidTransition):
        tickets.merge(agent, duplicate, original, now=utcnow())
    _db.session.rollback()
    _db.session.expire_all()
    assert duplicate.merged_into_id is None and len(duplicate.comments) == 1


def test_a_merge_across_requesters_copies_the_duplicates_requester_on_the_target(org, pair):
    """Two people report one outage: the duplicate's requester keeps reading and answering the
    surviving ticket, as a copied colleague, and hears of its updates."""
    agent, ada, duplicate = pair["agent"], pair["ada"], pair["duplicate"]
    bob = factories.make_user(org, name="Bob")
    surviving = tickets.create_ticket(bob, title="VPN is down for everyone", now=utcnow())
    tickets.merge(agent, duplicate, surviving, now=utcnow())
    _db.session.commit()
    assert ticket_for(ada, duplicate.reference) == surviving  # her number leads to the ticket she can read
    assert [(w.user.name, w.kind) for w in watchers.watchers_of(surviving)] == [("Ada Lovelace", "cc")]
    tickets.add_comment(agent, surviving, "The VPN gateway is being replaced.", now=utcnow())
    _db.session.commit()
    assert _db.session.scalar(select(OutboxEmail.recipient).where(OutboxEmail.dedupe_key.like("watch:%"))) == ada.email


def test_links_are_seen_from_both_sides_once_and_within_the_organization(org, other_org, pair):
    agent, original, duplicate = pair["agent"], pair["original"], pair["duplicate"]
    tickets.link(agent, original, duplicate, "parent", now=utcnow())
    _db.session.commit()
    assert [(kind, other.reference) for _, kind, other in tickets.links_of(original, agent)] == [
        ("parent", duplicate.reference)
    ]
    assert [(kind, other.reference) for _, kind, other in tickets.links_of(duplicate, agent)] == [
        ("child", original.reference)
    ]
    with pytest.raises(ValidationError, match="linked already"):
        tickets.link(agent, duplicate, original, "related", now=utcnow())
    with pytest.raises((ValidationError, Forbidden)):
        tickets.link(agent, original, factories.make_ticket(factories.make_user(other_org)), "related", now=utcnow())
    (row, _, _) = tickets.links_of(original, agent)[0]
    stranger = factories.make_user(other_org, "agent")
    with pytest.raises(NotFound):
        tickets.unlink(stranger, factories.make_ticket(factories.make_user(other_org)), row.id, now=utcnow())
    tickets.unlink(agent, duplicate, row.id, now=utcnow())
    _db.session.commit()
    assert _db.session.scalar(select(TicketLink)) is None


def test_the_agent_page_merges_links_and_redirects_a_merged_number(client, org, pair):
    original, duplicate = pair["original"], pair["duplicate"]
    login(client, pair["agent"])
    page = f"/agent/tickets/{duplicate.reference}"
    unconfirmed = post_form(client, f"{page}/merge", {"into": original.reference}, token_from=page)
    assert unconfirmed.status_code == 302 and _db.session.get(Ticket, duplicate.id).merged_into_id is None
    merged = post_form(client, f"{page}/merge", {"into": original.reference, "confirm": "y"}, token_from=page)
    assert merged.headers["Location"].endswith(f"/agent/tickets/{original.reference}")
    followed = client.get(page, follow_redirects=True)
    assert f"{duplicate.reference} was merged into {original.reference}" in followed.get_data(as_text=True)
    third = tickets.create_ticket(pair["ada"], title="Laptop slow", now=utcnow())
    _db.session.commit()
    target = f"/agent/tickets/{original.reference}"
    assert (
        post_form(
            client, f"{target}/links", {"ticket": third.reference, "kind": "related"}, token_from=target
        ).status_code
        == 302
    )
    assert third.reference in client.get(target).get_data(as_text=True)


def test_the_api_merges_and_links(client, org, other_org, pair):
    from tests.helpers import token_for

    headers = {"Authorization": f"Bearer {token_for(client, pair['agent'])}"}
    original, duplicate = pair["original"], pair["duplicate"]
    third = tickets.create_ticket(pair["ada"], title="Laptop slow", now=utcnow())
    foreign = factories.make_ticket(factories.make_user(other_org))
    _db.session.commit()
    refused = client.post(
        f"/api/v1/tickets/{duplicate.reference}/merge", json={"into": f"GLOBEX-{foreign.number}"}, headers=headers
    )
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"]["into"]
    done = client.post(
        f"/api/v1/tickets/{duplicate.reference}/merge", json={"into": original.reference}, headers=headers
    )
    assert done.status_code == 200 and done.get_json()["reference"] == original.reference
    assert (
        client.get(f"/api/v1/tickets/{duplicate.number}", headers=headers).get_json()["reference"] == original.reference
    )
    linked = client.post(
        f"/api/v1/tickets/{original.reference}/links",
        json={"ticket": third.reference, "kind": "child"},
        headers=headers,
    )
    assert linked.status_code == 201 and linked.get_json()[0]["kind"] == "child"
    link_id = linked.get_json()[0]["id"]
    assert client.delete(f"/api/v1/tickets/{third.reference}/links/{link_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/tickets/{original.reference}/links", headers=headers).get_json() == []
