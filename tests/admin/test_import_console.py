"""CSV import in the console: upload, preview, confirm; templates; export made spreadsheet-safe."""

import io
import re

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import Department, Holiday
from tests import factories
from tests.conftest import csrf_token, login

HOLIDAYS = b"date,name\r\n2026-12-25,Christmas Day\r\n2027-01-01,New Year's Day\r\n"


def upload(client, kind, data, filename="file.csv"):
    return client.post(
        "/admin/csv_import/",
        data={"csrf_token": csrf_token(client, "/portal/"), "kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm_form(page):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    return token.group(1) if token else None


def holidays(org):
    return _db.session.scalar(select(func.count()).select_from(Holiday).where(Holiday.org_id == org.id))


def test_upload_previews_every_row_and_confirm_imports_them(client, org):
    login(client, factories.admin_of(org))
    preview = upload(client, "holidays", HOLIDAYS)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2 to create" in page and "Christmas Day" in page
    assert page.count("<td>create</td>") == 2 and holidays(org) == 0  # nothing written yet
    token = confirm_form(page)
    done = client.post(
        "/admin/csv_import/confirm",
        data={"csrf_token": csrf_token(client, "/portal/"), "kind": "holidays", "token": token},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/holiday/")
    assert holidays(org) == 2
    # The staged file is gone: confirming twice does not import twice.
    again = client.post(
        "/admin/csv_import/confirm",
        data={"csrf_token": csrf_token(client, "/portal/"), "kind": "holidays", "token": token},
        follow_redirects=True,
    )
    assert "expired" in again.get_data(as_text=True) and holidays(org) == 2


def test_a_file_with_errors_shows_them_and_offers_no_confirm(client, org):
    login(client, factories.admin_of(org))
    page = upload(client, "holidays", b"date,name\n2026-12-25,Christmas\n12/25/2026,Bad\n").get_data(as_text=True)
    assert "<td>3</td>" in page and "write the date as YYYY-MM-DD" in page
    assert "Nothing was imported" in page and confirm_form(page) is None
    assert holidays(org) == 0


def test_a_rejected_file_re_renders_the_form_with_the_reason(client, org):
    login(client, factories.admin_of(org))
    response = upload(client, "departments", b"name,colour\nX,red\n")
    assert response.status_code == 200
    assert "Unknown column(s): colour" in response.get_data(as_text=True)
    missing = client.post(
        "/admin/csv_import/",
        data={"csrf_token": csrf_token(client, "/portal/"), "kind": "departments"},
        content_type="multipart/form-data",
    )
    assert "Choose a CSV file." in missing.get_data(as_text=True)


def test_another_organizations_upload_cannot_be_confirmed(client, org, other_org):
    login(client, factories.admin_of(other_org))
    token = confirm_form(upload(client, "holidays", HOLIDAYS).get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    login(client, factories.admin_of(org))
    response = client.post(
        "/admin/csv_import/confirm",
        data={"csrf_token": csrf_token(client, "/portal/"), "kind": "holidays", "token": token},
        follow_redirects=True,
    )
    assert "expired" in response.get_data(as_text=True)
    assert holidays(org) == 0 and holidays(other_org) == 0


def test_confirm_needs_the_csrf_token(client, org):
    login(client, factories.admin_of(org))
    token = confirm_form(upload(client, "holidays", HOLIDAYS).get_data(as_text=True))
    response = client.post("/admin/csv_import/confirm", data={"kind": "holidays", "token": token})
    assert response.status_code in (302, 400) and holidays(org) == 0


@pytest.mark.parametrize("role", ["manager", "agent", "employee"])
def test_only_org_admins_may_import(client, org, role):
    login(client, factories.make_user(org, role))
    assert client.get("/admin/csv_import/").status_code == 403
    assert client.get("/admin/csv_import/template/users.csv").status_code == 403


def test_anonymous_users_are_sent_to_login(client, org):
    response = client.get("/admin/csv_import/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_templates_download_as_csv(client, org):
    login(client, factories.admin_of(org))
    response = client.get("/admin/csv_import/template/categories.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).startswith("path,default_priority,default_department")
    assert client.get("/admin/csv_import/template/secrets.csv").status_code == 404


def test_exports_neutralise_formulas_and_stay_in_the_organization(client, org, other_org):
    factories.make_department(org, '=HYPERLINK("http://evil")')
    factories.make_department(other_org, "Globex secret team")
    login(client, factories.admin_of(org))
    response = client.get("/admin/department/export/csv/")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "Globex" not in text and "Support" in text
    assert _db.session.scalar(select(func.count()).select_from(Department)) == 4
