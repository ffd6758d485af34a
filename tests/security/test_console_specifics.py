"""The console beyond its list and edit pages: inline list editing, exports and the role and
department forms' relation fields stay within the organization and cannot carry formulas."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Holiday, User
from tests import factories
from tests.conftest import csrf_token, login


@pytest.mark.parametrize("endpoint", ["user", "holiday", "department", "role", "ticket", "priority"])
def test_inline_list_editing_is_off_so_no_row_changes_through_it(client, org, other_org, endpoint):
    stranger = factories.make_user(other_org, name="Stranger")
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/admin/")
    response = client.post(
        f"/admin/{endpoint}/ajax/update/",
        data={"list_form_pk": str(stranger.id), "name": "Changed", "csrf_token": token},
    )
    assert response.status_code in (400, 403, 404)
    _db.session.expire_all()
    assert _db.session.get(User, stranger.id).name == "Stranger"


def test_exports_neutralise_formulas_in_people_typed_text(client, org):
    factories.make_user(org, name='=HYPERLINK("http://evil.example","click")')
    login(client, factories.admin_of(org))
    body = client.get("/admin/user/export/csv/").get_data(as_text=True)
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body


def test_a_holiday_of_another_organization_cannot_be_deleted_by_a_bulk_action(client, org, other_org):
    from datetime import date

    from autotrack.models import BusinessCalendar

    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == other_org.id))
    theirs = Holiday(org_id=other_org.id, calendar_id=calendar_id, date=date(2026, 12, 24), name="Their holiday")
    _db.session.add(theirs)
    _db.session.commit()
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/admin/holiday/")
    response = client.post(
        "/admin/holiday/action/", data={"action": "delete", "rowid": [str(theirs.id)], "csrf_token": token}
    )
    assert response.status_code in (302, 400, 404)
    _db.session.expire_all()
    assert _db.session.get(Holiday, theirs.id) is not None
