"""Password reset and invitations: random single-use links stored hashed, expiring, built from
the configured base URL whatever Host the request claims, the same answer for known and unknown
addresses, rate limits, and every session ended by the new password. The link reaches only its
recipient: the outbox keeps a placeholder, and the link goes into the email at delivery (a real
SMTP server, aiosmtpd) and is then forgotten."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from autotrack.extensions import db as _db
from autotrack.models import OutboxEmail, PasswordToken, utcnow
from autotrack.services import outbox
from autotrack.services.org import imports
from autotrack.services.people import password_links
from tests import factories
from tests.conftest import login, post_form

LINK = re.compile(r"https?://[^\s/]+/reset/([A-Za-z0-9_-]+)")


def delivered_links(smtp_server, address):
    """Deliver the outbox, then the links every email to `address` carried, oldest first."""
    outbox.deliver_all_due(utcnow())
    found = []
    for recipients, message in smtp_server.messages:
        if recipients == [address]:
            text = message.get_payload(decode=True).decode()
            found += LINK.findall(text)
    return found


def link_sent(smtp_server, user):
    return delivered_links(smtp_server, user.email)[-1]


def reset_mails(user):
    _db.session.expire_all()
    return _db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.recipient == user.email, OutboxEmail.dedupe_key.like("password:%"))
        .order_by(OutboxEmail.id)
    ).all()


def ask(client, email, **kwargs):
    return post_form(client, "/reset", {"email": email}, token_from="/reset", **kwargs)


def test_known_and_unknown_addresses_get_the_same_answer(client, org):
    user = factories.make_user(org)
    known = ask(client, user.email, follow_redirects=True)
    unknown = ask(client, "nobody@acme.example", follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert password_links.RESET_SENT in known.get_data(as_text=True)
    assert password_links.RESET_SENT in unknown.get_data(as_text=True)
    assert len(reset_mails(user)) == 1


def test_the_link_comes_from_the_configured_server_not_the_requests_host(app, client, org, smtp_server):
    user = factories.make_user(org)
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    page = client.get("/reset", headers=forged).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/reset", data={"email": user.email, "csrf_token": token}, headers=forged)
    assert response.status_code == 302
    outbox.deliver_all_due(utcnow())
    [(_, message)] = smtp_server.messages
    text = message.get_payload(decode=True).decode()
    assert "evil.example" not in text
    assert LINK.search(text).group(0).startswith(app.config["AUTOTRACK_BASE_URL"].rstrip("/") + "/reset/")


def test_a_link_sets_the_password_once_and_ends_every_session(app, client, org, smtp_server):
    user = factories.make_user(org)
    other_browser = app.test_client()
    login(other_browser, user)
    ask(client, user.email)
    raw = link_sent(smtp_server, user)
    stored = _db.session.scalar(select(PasswordToken.token_hash))
    assert raw not in stored and len(stored) == 64  # only the hash is kept
    page = f"/reset/{raw}"
    assert client.get(page).headers["Referrer-Policy"] == "no-referrer"
    response = post_form(
        client, page, {"password": "brand new passphrase", "confirm": "brand new passphrase"}, token_from=page
    )
    assert response.status_code == 302
    assert other_browser.get("/portal/").status_code == 302  # signed out
    login(app.test_client(), user, password="brand new passphrase")
    assert client.get(page).status_code == 410  # used
    again = post_form(
        client, page, {"password": "another passphrase", "confirm": "another passphrase"}, token_from="/reset"
    )
    assert again.status_code == 410


def test_an_expired_or_superseded_link_fails(client, org, smtp_server):
    user = factories.make_user(org)
    ask(client, user.email)
    first = link_sent(smtp_server, user)
    ask(client, user.email)
    second = link_sent(smtp_server, user)
    assert first != second
    assert client.get(f"/reset/{first}").status_code == 410  # a newer link ends the older
    _db.session.execute(update(PasswordToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    _db.session.commit()
    assert client.get(f"/reset/{second}").status_code == 410
    assert client.get("/reset/made-up-token").status_code == 410


def test_a_weak_password_re_renders_the_form_and_keeps_the_link(client, org, smtp_server):
    user = factories.make_user(org)
    ask(client, user.email)
    raw = link_sent(smtp_server, user)
    response = post_form(client, f"/reset/{raw}", {"password": "short", "confirm": "short"}, token_from="/reset")
    assert response.status_code == 422 and "At least 8 characters." in response.get_data(as_text=True)
    assert client.get(f"/reset/{raw}").status_code == 200


def test_reset_requests_are_rate_limited_per_account(client, org):
    user = factories.make_user(org)
    for _ in range(password_links.RESET_PER_ACCOUNT):
        assert ask(client, user.email).status_code == 302
    response = ask(client, user.email)
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert len(reset_mails(user)) == password_links.RESET_PER_ACCOUNT


def test_a_deactivated_user_gets_no_link_and_cannot_use_an_old_one(client, org, smtp_server):
    user = factories.make_user(org)
    ask(client, user.email)
    raw = link_sent(smtp_server, user)
    user.active = False
    _db.session.commit()
    assert client.get(f"/reset/{raw}").status_code == 410
    ask(client, user.email)
    assert len(reset_mails(user)) == 1


def test_imported_users_are_invited_to_choose_their_password(client, org, smtp_server):
    csv = b"email,name,role\r\nnew.hire@acme.example,New Hire,employee\r\n"
    report = imports.run(org, "users", csv)
    _db.session.commit()
    assert report.applied
    [raw] = delivered_links(smtp_server, "new.hire@acme.example")
    page = f"/reset/{raw}"
    response = post_form(
        client, page, {"password": "my first passphrase", "confirm": "my first passphrase"}, token_from=page
    )
    assert response.status_code == 302
    user = _db.session.scalar(select(PasswordToken).where(PasswordToken.purpose == "invite")).user
    login(client, user, password="my first passphrase")


@pytest.mark.parametrize("with_password", [True, False])
def test_console_created_users_are_invited_unless_given_a_password(client, org, with_password):
    login(client, factories.admin_of(org))
    page = "/admin/user/new/"
    employee_role = [r for r in org_roles(org) if r.builtin == "employee"][0]
    response = post_form(
        client,
        page,
        {
            "name": "Console Person",
            "email": "console.person@acme.example",
            "role": str(employee_role.id),
            "active": "y",
            "new_password": "a set passphrase" if with_password else "",
        },
        token_from=page,
    )
    assert response.status_code == 302
    invited = _db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.recipient == "console.person@acme.example")
    ).all()
    assert len(invited) == (0 if with_password else 1)


def org_roles(org):
    from autotrack.models import Role

    return _db.session.scalars(select(Role).where(Role.org_id == org.id)).all()


def test_no_stored_column_and_no_console_page_holds_a_working_link(app, client, org, smtp_server):
    """An org admin (or anyone reading the outbox table) cannot take over an account: invitation
    and reset mails are stored with a placeholder, the link is in the delivered email only, works
    once, and is gone from the database once sent."""
    admin = factories.admin_of(org)
    colleague = factories.make_user(org, "agent", email="colleague@acme.example")
    ask(app.test_client(), colleague.email)  # the colleague asks for a reset
    login(client, admin)
    page = "/admin/user/new/"
    employee_role = [r for r in org_roles(org) if r.builtin == "employee"][0]
    assert (
        post_form(
            client,
            page,
            {
                "name": "New Person",
                "email": "new.person@acme.example",
                "role": str(employee_role.id),
                "active": "y",
                "new_password": "",
            },
            token_from=page,
        ).status_code
        == 302
    )

    def stored():
        """Every column of every outbox row, and every console page about them, as text."""
        _db.session.expire_all()
        mails = _db.session.scalars(select(OutboxEmail)).all()
        cells = [str(getattr(mail, column.key)) for mail in mails for column in OutboxEmail.__table__.columns]
        pages = [
            client.get("/admin/outbox/").get_data(as_text=True),
            client.get("/admin/outbox/export/csv/").get_data(as_text=True),
        ]
        pages += [client.get(f"/admin/outbox/details/?id={mail.id}").get_data(as_text=True) for mail in mails]
        return mails, "\n".join(cells + pages), "\n".join(pages)

    mails, before, pages = stored()
    assert {m.recipient for m in mails} == {"colleague@acme.example", "new.person@acme.example"}
    assert all(m.secret_encrypted is not None and outbox.LINK_PLACEHOLDER in m.body_text for m in mails)
    assert not any(m.secret_encrypted in pages for m in mails)  # the console never shows it, even encrypted
    assert "/reset/" not in before and not LINK.search(before)

    (reset_link,) = delivered_links(smtp_server, colleague.email)
    (invite_link,) = delivered_links(smtp_server, "new.person@acme.example")
    mails, after, _ = stored()
    assert all(m.status == "sent" and m.secret_encrypted is None for m in mails)  # the secret is forgotten
    for raw in (reset_link, invite_link):
        assert raw not in before and raw not in after
        assert len(raw) >= 40
    page = f"/reset/{invite_link}"
    passphrase = {"password": "my own passphrase", "confirm": "my own passphrase"}
    assert post_form(app.test_client(), page, passphrase, token_from=page).status_code == 302
    assert app.test_client().get(page).status_code == 410  # once
    assert app.test_client().get(f"/reset/{reset_link}").status_code == 200  # the colleague's still works
