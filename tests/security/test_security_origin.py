"""The security log takes the client's address and who acts from its caller (the web layer's
Origin), never from the request itself: a job or the CLI writes events with neither."""

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import SecurityEvent
from autotrack.services import security_log
from tests import factories
from tests.conftest import post_form


def test_without_an_origin_an_event_has_no_address_and_no_actor(org):
    user = factories.make_user(org)
    event = security_log.record("password_changed", user=user)
    assert event.address is None and security_log.actor_words() == ""
    assert security_log.record("sign_in", user=user, address="10.0.0.7").address == "10.0.0.7"


def test_the_origin_given_names_the_address_and_whoever_is_signed_in_when_asked(org):
    user = factories.make_user(org, name="Ada Lovelace")
    signed_in = []
    security_log.set_origin(security_log.Origin(address="192.0.2.1" * 10, actor=lambda: signed_in[-1]))
    signed_in.append("Ada Lovelace")
    event = security_log.record("role_changed", user=user, detail="x")
    assert event.address == ("192.0.2.1" * 10)[:64] and security_log.actor_words() == "by Ada Lovelace"


def test_a_request_hands_its_address_to_the_services(client, org):
    user = factories.make_user(org, email="bob@acme.example")
    _db.session.commit()
    post_form(client, "/login", {"email": user.email, "password": "wrong"})
    _db.session.expire_all()
    failed = _db.session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "sign_in_failed"))
    assert failed.address == "127.0.0.1" and failed.user_id == user.id
