"""Watchers: staff follow a ticket, a requester copies colleagues; they hear of its public
updates by email and in the app as each one's notification settings say, and a copied colleague
may read and answer the ticket, within one organization only."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Notification, OutboxEmail
from autotrack.models.types import utcnow
from autotrack.services import outbox, preferences, tickets
from autotrack.services.errors import Forbidden, NotFound, ValidationError
from autotrack.services.tenancy import ticket_for
from autotrack.services.tickets import watchers
from tests import factories
from tests.conftest import login, post_form
from tests.helpers import assert_error


@pytest.fixture
def people(org):
    return {
        "ada": factories.make_user(org, name="Ada Lovelace", email="ada@acme.example"),
        "bob": factories.make_user(org, name="Bob Colleague", email="bob@acme.example"),
        "sam": factories.make_user(org, "agent", name="Sam Agent"),
        "kim": factories.make_user(org, "agent", name="Kim Follower"),
    }


@pytest.fixture
def ticket(people):
    ticket = tickets.create_ticket(people["ada"], title="Laptop will not boot", now=utcnow())
    tickets.assign(people["sam"], ticket, people["sam"], now=utcnow())
    _db.session.commit()
    return ticket


def watch_mail(user):
    _db.session.expire_all()
    return _db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.recipient == user.email, OutboxEmail.dedupe_key.like("watch:%"))
        .order_by(OutboxEmail.id)
    ).all()


def notices(user):
    return _db.session.scalars(
        select(Notification.message).where(Notification.user_id == user.id, Notification.kind == "watch")
    ).all()


def test_a_follower_hears_public_replies_and_status_changes_but_not_internal_notes(people, ticket):
    sam, kim, ada = people["sam"], people["kim"], people["ada"]
    watchers.follow(kim, ticket, now=utcnow())
    watchers.follow(kim, ticket, now=utcnow())  # twice: one row
    _db.session.commit()
    tickets.add_comment(ada, ticket, "It beeps three times now.", now=utcnow())
    tickets.add_comment(sam, ticket, "Checked the RAM: faulty.", internal=True, now=utcnow())
    tickets.transition(sam, ticket, "resolve", now=utcnow())
    _db.session.commit()
    mails = watch_mail(kim)
    assert len(mails) == 2
    assert "It beeps three times now." in mails[0].body_text and "/agent/tickets/" in mails[0].body_text
    assert "resolved by Sam Agent" in mails[1].body_text
    assert not any("faulty" in m.body_text for m in mails)
    assert len(notices(kim)) == 2
    assert [w.user.name for w in watchers.watchers_of(ticket)] == ["Kim Follower"]
    assert (
        _db.session.scalar(
            select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "follow")
        )
        == "follow"
    )


def test_the_author_requester_and_assignee_get_no_watcher_copy(people, ticket):
    sam, ada = people["sam"], people["ada"]
    watchers.follow(sam, ticket, now=utcnow())  # the assignee also following: no second email
    _db.session.commit()
    tickets.add_comment(sam, ticket, "On my way.", now=utcnow())
    tickets.add_comment(ada, ticket, "Thanks", now=utcnow())
    _db.session.commit()
    assert watch_mail(sam) == [] and watch_mail(ada) == []


def test_a_copied_colleague_reads_and_answers_the_ticket_and_hears_replies(client, people, ticket):
    ada, bob, sam = people["ada"], people["bob"], people["sam"]
    login(client, ada)
    page = f"/portal/tickets/{ticket.reference}"
    response = post_form(client, f"{page}/watchers", {"email": "BOB@acme.example "}, token_from=page)
    assert response.status_code == 302
    assert "Bob Colleague is copied" in client.get(page).get_data(as_text=True)
    _db.session.expire_all()
    welcome = _db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.recipient == bob.email, OutboxEmail.dedupe_key.like("cc:%"))
    )
    assert "Ada Lovelace copied you" in welcome.body_text and f"/portal/tickets/{ticket.reference}" in welcome.body_text

    tickets.add_comment(sam, ticket, "Please bring it to the service desk.", now=utcnow())
    _db.session.commit()
    assert "Please bring it to the service desk." in watch_mail(bob)[0].body_text

    client.post("/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    login(client, bob)
    assert ticket.reference in client.get("/portal/?copied=1").get_data(as_text=True)
    assert ticket.reference not in client.get("/portal/").get_data(as_text=True)  # raised by Ada, not by him
    body = client.get(page).get_data(as_text=True)
    assert "Please bring it to the service desk." in body and "Raised by" in body
    assert "Confirm it is solved" not in body  # closing is the requester's
    response = post_form(client, f"{page}/comments", {"body": "I will bring it at 2 pm."}, token_from=page)
    assert response.status_code == 302
    _db.session.expire_all()
    assert [c.body for c in ticket.comments][-1] == "I will bring it at 2 pm."
    # The requester hears of her colleague's reply by email (she can answer it by mail).
    assert (
        _db.session.scalar(
            select(OutboxEmail.recipient)
            .where(OutboxEmail.dedupe_key.like("reply:%"))
            .order_by(OutboxEmail.id.desc())
            .limit(1)
        )
        == ada.email
    )


def test_copying_is_refused_for_strangers_the_requester_and_people_who_may_not(org, other_org, people, ticket):
    ada, bob, kim = people["ada"], people["bob"], people["kim"]
    outsider = factories.make_user(other_org, email="eve@globex.example")
    with pytest.raises(ValidationError, match="Nobody in your organization"):
        watchers.add_cc(ada, ticket, outsider.email, now=utcnow())  # another organization's address
    with pytest.raises(ValidationError, match="Nobody in your organization"):
        watchers.add_cc(ada, ticket, "nobody@acme.example", now=utcnow())
    with pytest.raises(ValidationError, match="raised this ticket"):
        watchers.add_cc(kim, ticket, ada.email, now=utcnow())
    with pytest.raises(Forbidden):
        watchers.add_cc(bob, ticket, kim.email, now=utcnow())  # not his ticket
    with pytest.raises(Forbidden):
        watchers.follow(ada, ticket, now=utcnow())  # following is for staff; a requester hears anyway
    watchers.add_cc(ada, ticket, bob.email, now=utcnow())
    with pytest.raises(ValidationError, match="copied already"):
        watchers.add_cc(ada, ticket, bob.email, now=utcnow())
    _db.session.rollback()
    with pytest.raises(NotFound):
        ticket_for(outsider, ticket.reference)


def test_a_copied_colleague_loses_access_when_taken_off(client, people, ticket):
    ada, bob, kim = people["ada"], people["bob"], people["kim"]
    watchers.add_cc(ada, ticket, bob.email, now=utcnow())
    watchers.follow(kim, ticket, now=utcnow())
    _db.session.commit()
    assert ticket_for(bob, ticket.reference) == ticket
    with pytest.raises(Forbidden):
        watchers.remove(bob, ticket, kim.id, now=utcnow())  # a colleague cannot take others off
    watchers.remove(ada, ticket, bob.id, now=utcnow())
    _db.session.commit()
    with pytest.raises(NotFound):
        ticket_for(bob, ticket.reference)
    login(client, bob)
    assert client.get(f"/portal/tickets/{ticket.reference}").status_code == 404
    watchers.remove(kim, ticket, kim.id, now=utcnow())  # anybody may stop watching
    _db.session.commit()
    assert watchers.watchers_of(ticket) == []


def test_a_follower_who_left_the_department_hears_no_more(org, people, ticket):
    kim, sam = people["kim"], people["sam"]
    watchers.follow(kim, ticket, now=utcnow())
    elsewhere = factories.make_department(org, "Facilities")
    tickets.change_department(sam, ticket, elsewhere, now=utcnow())  # Kim no longer works on it
    _db.session.commit()
    tickets.add_comment(people["ada"], ticket, "Any news?", now=utcnow())
    _db.session.commit()
    assert watch_mail(kim) == []


@pytest.mark.parametrize(
    "email, in_app, mails, notes", [(True, True, 1, 1), (False, True, 0, 1), (True, False, 1, 0), (False, False, 0, 0)]
)
def test_each_watcher_s_settings_decide_what_reaches_them(people, ticket, email, in_app, mails, notes):
    kim = people["kim"]
    preferences.save(kim, {"watched": {"email": email, "in_app": in_app}})
    watchers.follow(kim, ticket, now=utcnow())
    _db.session.commit()
    tickets.add_comment(people["ada"], ticket, "Still broken", now=utcnow())
    _db.session.commit()
    assert (len(watch_mail(kim)), len(notices(kim))) == (mails, notes)


def test_a_requester_who_turned_reply_mail_off_gets_none_but_still_sees_it(people, ticket):
    ada, sam = people["ada"], people["sam"]
    preferences.save(ada, {"my_tickets": {"email": False}})
    _db.session.commit()
    tickets.add_comment(sam, ticket, "Fixed the BIOS.", now=utcnow())
    _db.session.commit()
    assert _db.session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key.like("reply:%"))) is None
    assert (
        _db.session.scalar(select(Notification).where(Notification.user_id == ada.id, Notification.kind == "comment"))
        is not None
    )


def test_the_settings_page_saves_choices_and_keeps_sla_notices_on(client, people):
    kim = people["kim"]
    login(client, kim)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Always, so that no deadline is missed" in page and 'name="watched.email"' in page
    response = post_form(
        client,
        "/notifications/settings",
        {"watched.in_app": "on", "my_tickets.email": "on", "work.email": "on"},
        token_from="/notifications/settings",
    )
    assert response.status_code == 302
    chosen = preferences.for_user(kim)
    assert chosen["watched"] == {"email": False, "in_app": True}
    assert chosen["my_tickets"] == {"email": True, "in_app": False}
    assert chosen["work"] == {"email": False, "in_app": False}  # never mailed, whatever is posted


def test_the_api_topics_are_the_services_topics():
    from autotrack.api.schemas import PreferencesSchema

    assert set(PreferencesSchema().fields) == set(preferences.TOPICS)


def test_agents_follow_and_copy_from_the_ticket_page(client, people, ticket):
    kim, bob = people["kim"], people["bob"]
    login(client, kim)
    page = f"/agent/tickets/{ticket.reference}"
    assert "Follow this ticket" in client.get(page).get_data(as_text=True)
    assert post_form(client, f"{page}/follow", token_from=page).status_code == 302
    assert post_form(client, f"{page}/watchers", {"email": bob.email}, token_from=page).status_code == 302
    response = post_form(
        client, f"{page}/watchers", {"email": "nobody@acme.example"}, token_from=page, follow_redirects=True
    )
    assert "Nobody in your organization has the address nobody@acme.example" in response.get_data(as_text=True)
    body = client.get(page).get_data(as_text=True)
    assert "Follow this ticket" not in body and "Stop watching" in body
    assert [(w.user.name, w.kind) for w in watchers.watchers_of(ticket)] == [
        ("Bob Colleague", "cc"),
        ("Kim Follower", "follow"),
    ]


def test_the_api_follows_copies_lists_and_removes_watchers(org, other_org, people, ticket, api):
    kim, ada, bob = api(people["kim"]), api(people["ada"]), people["bob"]
    path = f"/tickets/{ticket.reference}/watchers"
    response = kim("POST", path, json={})
    assert response.status_code == 201 and [w["kind"] for w in response.get_json()] == ["follow"]
    response = ada("POST", path, json={"email": bob.email})
    assert response.status_code == 201
    assert [(w["user"]["name"], w["kind"]) for w in response.get_json()] == [
        ("Bob Colleague", "cc"),
        ("Kim Follower", "follow"),
    ]
    assert_error(ada("POST", path, json={"email": "x@globex.example"}), 422, "validation_error")
    assert_error(ada("POST", path, json={"email": bob.email, "role": "admin"}), 422)  # unknown field
    assert_error(ada("POST", path, json={}), 403)  # requesters do not "follow"
    assert_error(ada("DELETE", f"{path}/{people['sam'].id}"), 404)  # not a watcher
    assert ada("DELETE", f"{path}/{bob.id}").status_code == 204
    stranger = api(factories.make_user(other_org, "agent"))
    assert_error(stranger("GET", path), 404)
    assert_error(stranger("POST", path, json={}), 404)
    prefs = kim("PUT", "/me/notification-preferences", json={"watched": {"email": False}})
    assert prefs.status_code == 200 and prefs.get_json()["watched"] == {"email": False, "in_app": True}
    assert kim("GET", "/me/notification-preferences").get_json()["watched"]["email"] is False
    assert_error(kim("PUT", "/me/notification-preferences", json={"sla": {"email": False}}), 422)


def test_a_watcher_mail_is_delivered_through_smtp_once(app, people, ticket, smtp_server):
    kim = people["kim"]
    watchers.follow(kim, ticket, now=utcnow())
    _db.session.commit()
    tickets.add_comment(people["ada"], ticket, "The screen flickers too.", now=utcnow())
    _db.session.commit()
    outbox.deliver_all_due(utcnow())
    outbox.deliver_all_due(utcnow())
    delivered = [(rcpt, message) for rcpt, message in smtp_server.messages if rcpt == [kim.email]]
    assert len(delivered) == 1
    message = delivered[0][1]
    assert message["Subject"].startswith(f"[{ticket.reference}]") and message["In-Reply-To"]
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    assert "The screen flickers too." in text.get_payload(decode=True).decode()


def test_another_organization_cannot_take_watchers_off(client, other_org, people, ticket, api):
    kim = people["kim"]
    watchers.follow(kim, ticket, now=utcnow())
    _db.session.commit()
    stranger = factories.admin_of(other_org)
    assert_error(api(stranger)("DELETE", f"/tickets/{ticket.number}/watchers/{kim.id}"), 404, "not_found")
    login(client, stranger)
    for portal in ("agent", "portal"):
        path = f"/{portal}/tickets/{ticket.number}/watchers/{kim.id}/delete"
        assert post_form(client, path, token_from="/notifications/").status_code == 404
    assert [w.user_id for w in watchers.watchers_of(ticket)] == [kim.id]
