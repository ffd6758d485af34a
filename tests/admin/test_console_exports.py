"""Every console view that offers CSV export downloads one row per object of the (filtered)
list, from a real server (issue 22: the departments and received-mail exports stopped after the
header row: the stream read related rows after the request's database session had ended)."""

import csv
import io

import pytest
from flask_admin.contrib.sqla import ModelView
from flask_login import login_user

from autotrack.extensions import db as _db
from autotrack.models import CannedReply
from tests import factories
from tests.helpers import Served


@pytest.fixture
def served(app, db):
    site = Served(app)
    yield site
    site.close()


def download(site, cookie, path):
    connection = site.connection()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    return response.status, response.read().decode()


def expected_rows(app, view, admin):
    """How many objects the admin's list of this view holds."""
    with app.test_request_context():
        login_user(admin)
        return view.get_count_query().scalar()


def test_every_console_export_has_a_row_per_object(app, org, other_org, rows, served):
    department = factories.make_department(org, "Facilities")
    factories.make_user(org, "manager", department=department)
    factories.make_user(org, "agent", department=department, lead=True)
    _db.session.add(CannedReply(org_id=org.id, title="Thanks", body="Thank you, {{ requester_name }}."))
    _db.session.commit()
    admin = factories.admin_of(org)
    cookie = served.sign_in(admin.email, factories.PASSWORD)
    views = [view for view in app.extensions["admin"][0]._views if isinstance(view, ModelView) and view.can_export]
    assert {"department", "inbound", "ticket", "user"} <= {view.endpoint for view in views}
    short = []
    for view in views:
        status, body = download(served, cookie, f"/admin/{view.endpoint}/export/csv/")
        assert status == 200, view.endpoint
        lines = list(csv.reader(io.StringIO(body)))
        wanted = expected_rows(app, view, admin)
        if len(lines) != 1 + wanted or not wanted:
            short.append((view.endpoint, len(lines) - 1, wanted))
    assert short == []


def test_the_departments_export_names_the_staff(app, org, served):
    department = factories.make_department(org, "Facilities")
    boss = factories.make_user(org, "manager", department=department, name="Bea Boss")
    lead = factories.make_user(org, "agent", department=department, lead=True, name="Lee Lead")
    cookie = served.sign_in(factories.admin_of(org).email, factories.PASSWORD)
    status, body = download(served, cookie, "/admin/department/export/csv/")
    assert status == 200
    by_name = {line[0]: line for line in csv.reader(io.StringIO(body))}
    assert by_name["Facilities"][1:4] == [boss.name, lead.name, lead.name]
