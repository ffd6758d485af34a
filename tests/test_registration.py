"""Self-registration: only people in the organization's staff directory, with what it says of them."""

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import DirectoryEntry, User
from autotrack.services.org import orgs
from tests import factories
from tests.conftest import csrf_token

PASSWORD = "a long enough secret"


@pytest.fixture
def directory(org):
    facilities = factories.make_department(org, "Facilities")
    _db.session.add_all(
        [
            DirectoryEntry(
                org_id=org.id,
                employee_id="E-100",
                first_name="Ada",
                last_name="Lovelace",
                email="Ada@Acme.example",
                department_id=facilities.id,
            ),
            DirectoryEntry(
                org_id=org.id,
                employee_id="E-200",
                first_name="Sam",
                last_name="Agent",
                email="sam@acme.example",
                department_id=facilities.id,
                role_id=orgs.role_by_key(org, "agent").id,
            ),
        ]
    )
    _db.session.commit()
    return facilities


def register(client, **fields):
    data = {
        "organization": "acme",
        "employee_id": "E-100",
        "email": "ada@acme.example",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": csrf_token(client, "/register"),
    }
    data.update(fields)
    return client.post("/register", data=data)


def users():
    return _db.session.scalar(select(func.count()).select_from(User))


def test_an_employee_in_the_directory_registers_and_lands_in_the_portal(client, org, directory):
    response = register(client, employee_id=" e-100 ", email="ADA@acme.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    ada = _db.session.scalar(select(User).where(User.email == "ada@acme.example"))
    assert (ada.name, ada.org_id, ada.role.builtin, ada.department_id, ada.employee_id) == (
        "Ada Lovelace",
        org.id,
        "employee",
        directory.id,
        "E-100",
    )
    assert client.get("/portal/").status_code == 200  # signed in
    page = client.get("/portal/").get_data(as_text=True)
    assert "Ada Lovelace" in page


def test_the_directory_role_is_given_and_staff_join_their_department(client, org, directory):
    response = register(client, employee_id="E-200", email="sam@acme.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/agent/")
    sam = _db.session.scalar(select(User).where(User.email == "sam@acme.example"))
    assert sam.role.builtin == "agent"
    assert [(m.department_id, m.role) for m in sam.memberships] == [(directory.id, "agent")]


@pytest.mark.parametrize(
    "fields,field_message",
    [
        ({"organization": "nope"}, "Unknown organization code."),
        ({"employee_id": "E-999"}, "Not in the staff directory."),
        ({"email": "someone.else@acme.example"}, "Does not match the staff directory."),
        ({"password": "short", "confirm": "short"}, "At least"),
        ({"confirm": "something different"}, "The passwords differ."),
        ({"email": ""}, "This field is required."),
    ],
)
def test_a_refusal_says_which_field_and_creates_nothing(client, org, directory, fields, field_message):
    before = users()
    response = register(client, **fields)
    assert response.status_code in (200, 422)
    assert field_message in response.get_data(as_text=True)
    assert users() == before


def test_registering_twice_is_refused(client, org, directory):
    assert register(client).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    again = register(client)
    assert again.status_code == 422 and "sign in instead" in again.get_data(as_text=True)
    assert users() == 2  # the admin and Ada, once


def test_another_organizations_directory_does_not_open_an_account_here(client, org, other_org, directory):
    _db.session.add(
        DirectoryEntry(
            org_id=other_org.id, employee_id="G-1", first_name="Gus", last_name="Globex", email="gus@globex.example"
        )
    )
    _db.session.commit()
    response = register(client, organization="acme", employee_id="G-1", email="gus@globex.example")
    assert response.status_code == 422 and "Not in the staff directory." in response.get_data(as_text=True)
    response = register(client, organization="globex", employee_id="G-1", email="gus@globex.example")
    assert response.status_code == 302
    assert _db.session.scalar(select(User.org_id).where(User.email == "gus@globex.example")) == other_org.id


def test_registration_needs_the_csrf_token(client, org, directory):
    response = client.post(
        "/register",
        data={
            "organization": "acme",
            "employee_id": "E-100",
            "email": "ada@acme.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code in (200, 400) and users() == 1


def test_the_login_page_offers_registration(client):
    assert 'href="/register"' in client.get("/login").get_data(as_text=True)


def test_the_demo_newcomer_can_register(client, db):
    from autotrack.models.types import utcnow
    from autotrack.services.org import demo

    demo.seed_demo(now=utcnow())
    _db.session.commit()
    response = register(client, organization="acme", employee_id="E0100", email="nora@acme.example")
    assert response.status_code == 302
    nora = _db.session.scalar(select(User).where(User.email == "nora@acme.example"))
    assert nora.name == "Nora Newhire" and nora.department.name == "IT"
