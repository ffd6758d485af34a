"""Every "go back there afterwards" parameter (the console's `url=`, login's `next=`) goes through
one check and never sends the browser to another site (issue 22: `?url=http:evil.tld` answered
`Location: http:///evil.tld`, which Chromium follows to evil.tld)."""

from datetime import date

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, Holiday
from autotrack.web.redirects import is_local_path
from tests import factories
from tests.conftest import csrf_token, login, post_form

# Each is another site once a browser has repaired it (\ read as /, tabs and line breaks dropped,
# "http:" with a path read as http://, leading control characters and spaces stripped).
HOSTILE = [
    "http:evil.tld",
    "http:/evil.tld",
    "http:///evil.tld",
    "https://evil.tld/",
    "//evil.tld",
    "///evil.tld",
    "/\\evil.tld",
    "\\\\evil.tld",
    "\\/evil.tld",
    "/\t/evil.tld",
    "/\n/evil.tld",
    "\t//evil.tld",
    " //evil.tld",
    "\x00//evil.tld",
    "/\x0b/evil.tld",
    "/\u00a0/evil.tld",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.tld",
    "evil.tld/x",
    "/\r\nSet-Cookie: x=1",
    "/" + "a" * 3000,
]
LOCAL = ["/", "/admin/", "/admin/holiday/?page=1&sort=0", "/agent/tickets/ACME-1#comments", "/portal/?q=a%2Fb"]


def lands_here(location):
    """Where a browser would go: this test server (localhost), or another host."""
    cleaned = location.replace("\\", "/")
    for char in "\t\n\r":
        cleaned = cleaned.replace(char, "")
    cleaned = cleaned.lstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x1f ")
    if cleaned.startswith("http://localhost/") or cleaned == "http://localhost":
        return True
    return cleaned.startswith("/") and not cleaned.startswith("//")


@pytest.mark.parametrize("target", HOSTILE)
def test_the_one_check_refuses_what_a_browser_takes_to_another_site(target):
    assert not is_local_path(target)


@pytest.mark.parametrize("target", LOCAL)
def test_the_one_check_accepts_paths_of_this_site(target):
    assert is_local_path(target)


@pytest.fixture
def holiday(org):
    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    row = Holiday(org_id=org.id, calendar_id=calendar_id, date=date(2026, 12, 25), name="Christmas")
    _db.session.add(row)
    _db.session.commit()
    return row


@pytest.mark.parametrize("target", HOSTILE[:12])
def test_a_console_save_never_returns_to_another_site(client, org, holiday, target):
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/admin/")
    query = {"id": str(holiday.id), "url": target}
    page = client.get("/admin/holiday/edit/", query_string=query)
    if page.status_code == 302:
        assert lands_here(page.headers["Location"]) and "evil" not in page.headers["Location"]
    else:
        assert page.status_code == 200 and "evil.tld" not in page.get_data(as_text=True)
    saved = client.post(
        "/admin/holiday/edit/",
        query_string=query,
        data={"date": "2026-12-26", "name": "Boxing day", "csrf_token": token},
    )
    assert saved.status_code in (302, 400)
    if saved.status_code == 302:
        assert lands_here(saved.headers["Location"]) and "evil" not in saved.headers["Location"]


@pytest.mark.parametrize("page", ["edit", "details", "new"])
def test_console_pages_with_a_hostile_return_address_link_only_to_this_site(client, org, holiday, page):
    login(client, factories.admin_of(org))
    path = f"/admin/holiday/{page}/?id={holiday.id}&url=http:evil.tld"
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert "evil.tld" not in response.get_data(as_text=True)  # no List, Cancel or hidden field to it


def test_a_console_action_or_delete_posts_no_hostile_return_address(client, org, holiday):
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/admin/")
    response = client.post(
        "/admin/holiday/delete/", data={"id": str(holiday.id), "url": "http:evil.tld", "csrf_token": token}
    )
    assert response.status_code == 400
    _db.session.expire_all()
    assert _db.session.get(Holiday, holiday.id) is not None  # refused, not done and sent away


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_never_continues_to_another_site(client, org, target):
    admin = factories.admin_of(org)
    client.get("/login", query_string={"next": target})
    response = post_form(client, "/login", {"email": admin.email, "password": factories.PASSWORD, "next": target})
    assert response.status_code == 302
    assert lands_here(response.headers["Location"]) and "evil" not in response.headers["Location"]


def test_sign_in_to_a_console_link_carrying_a_hostile_address_stays_here(client, org, holiday):
    """The console sends a signed-out admin to /login?next=<the page>, hostile `url=` and all."""
    admin = factories.admin_of(org)
    first = client.get(f"/admin/holiday/edit/?id={holiday.id}&url=http:evil.tld")
    assert first.status_code == 302 and "/login" in first.headers["Location"]
    login_page = first.headers["Location"]
    client.get(login_page)
    from urllib.parse import parse_qs, urlsplit

    target = parse_qs(urlsplit(login_page).query)["next"][0]
    signed_in = post_form(client, "/login", {"email": admin.email, "password": factories.PASSWORD, "next": target})
    location = signed_in.headers["Location"]
    assert lands_here(location)
    landed = client.get(location)
    assert landed.status_code == 302 and lands_here(landed.headers["Location"])
    assert "evil" not in landed.headers["Location"]
