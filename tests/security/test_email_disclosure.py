"""Emails are unique across the deployment, so creating a user may be refused because someone of
another organization has the address. The refusal must not tell an org admin that: the same
words whether the address is taken here or elsewhere, naming no one, saying nothing exists."""

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import Role, User
from tests import factories
from tests.conftest import csrf_token, login

REFUSED = "This address cannot be used."
TELLING = ("already used", "another account", "exists", "Already exists", "Taken")


def _says_nothing_more(text):
    return not any(words in text for words in TELLING)


def _users_in(org):
    return _db.session.scalar(select(func.count()).select_from(User).where(User.org_id == org.id))


@pytest.fixture
def taken(org, other_org):
    """An address of the other organization, and one of this one."""
    factories.make_user(other_org, "agent", email="taken@globex.example")
    factories.make_user(org, "agent", email="here@acme.example")
    return {"elsewhere": "taken@globex.example", "here": "here@acme.example"}


@pytest.mark.parametrize(
    "where, typed",
    [("elsewhere", "taken@globex.example"), ("elsewhere", "Taken@Globex.example"), ("here", "here@acme.example")],
)
def test_the_console_refuses_a_taken_address_in_the_same_words_wherever_it_is(client, org, taken, where, typed):
    login(client, factories.admin_of(org))
    before = _users_in(org)
    role_id = _db.session.scalar(select(Role.id).where(Role.org_id == org.id, Role.builtin == "agent"))
    response = client.post(
        "/admin/user/new/",
        data={
            "name": "New",
            "email": typed,
            "role": role_id,
            "active": "y",
            "new_password": "a-long-password",
            "csrf_token": csrf_token(client, "/portal/"),
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True).replace(typed, "")  # the form shows what was typed
    assert REFUSED in page and _says_nothing_more(page)
    assert _users_in(org) == before


@pytest.mark.parametrize("where", ["elsewhere", "here"])
def test_the_cli_refuses_a_taken_address_in_the_same_words(runner, org, taken, where):
    result = runner.invoke(
        args=[
            "autotrack",
            "create-user",
            taken[where],
            "--org",
            org.slug,
            "--role",
            "agent",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code != 0
    assert REFUSED in result.output and _says_nothing_more(result.output)


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_user_import_refuses_an_address_of_another_organization_without_saying_so(
    runner, org, taken, tmp_path, dry_run
):
    file = tmp_path / "users.csv"
    file.write_text("email,name,role\ntaken@globex.example,T,agent\nnew@acme.example,N,employee\n")
    before = _users_in(org)
    result = runner.invoke(
        args=["autotrack", "import", "users", str(file), "--org", org.slug] + (["--dry-run"] if dry_run else [])
    )
    assert result.exit_code != 0
    assert f"line 2: error: email: {REFUSED}" in result.output and _says_nothing_more(result.output)
    assert _users_in(org) == before  # any error: nothing written
    assert _db.session.scalar(select(User.org_id).where(User.email == "taken@globex.example")) != org.id
