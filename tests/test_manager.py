"""The manager's view: team workload and a department SLA report, only for their departments."""

from datetime import timedelta

import pytest

from autotrack.extensions import db as _db
from autotrack.models import utcnow
from autotrack.services import sla, tickets
from autotrack.services.org import reports
from tests import factories
from tests.conftest import login


@pytest.fixture
def team(org, other_org):
    """Facilities (managed by `boss`) with two agents; Support's and Globex's work must not show."""
    facilities = factories.make_department(org, "Facilities")
    boss = factories.make_user(org, "manager", department=facilities)
    ann = factories.make_user(org, "agent", department=facilities, name="Ann Agent")
    bob = factories.make_user(org, "agent", department=facilities, name="Bob Agent")
    requester = factories.make_user(org)
    now = utcnow()
    p1 = factories.priority(org, "P1")

    def ticket(assignee, created, department=facilities):
        made = tickets.create_ticket(
            ann, title="Radiator cold", requester=requester, priority=p1, department=department, now=created
        )
        if assignee is not None:
            tickets.transition(ann, made, "assign", assignee=assignee, now=created)
        _db.session.commit()
        return made

    ticket(ann, now - timedelta(hours=3))  # P1 resolution (2 h) overdue
    answered = ticket(ann, now - timedelta(minutes=100))  # answered; past 75% of its 2 h: at risk
    tickets.add_comment(ann, answered, "On my way", now=answered.created_at + timedelta(minutes=5))
    _db.session.commit()
    ticket(bob, now - timedelta(minutes=5))  # on track
    ticket(None, now - timedelta(minutes=1))  # unassigned
    support_agent = factories.make_user(org, "agent")
    tickets.create_ticket(support_agent, title="Elsewhere", requester=requester, priority=p1, now=utcnow())
    other_agent = factories.make_user(other_org, "agent")
    tickets.create_ticket(
        other_agent,
        title="Globex",
        requester=factories.make_user(other_org),
        priority=factories.priority(other_org, "P1"),
        now=utcnow(),
    )
    _db.session.commit()
    return {"boss": boss, "facilities": facilities, "now": now}


def test_workload_counts_open_at_risk_and_overdue_per_agent(org, team):
    workload = reports.team_workload(team["boss"], [team["facilities"].id], now=team["now"])
    assert workload == [("Ann Agent", 2, 1, 1), ("Bob Agent", 1, 0, 0), ("Unassigned", 1, 0, 0)]


def test_the_manager_page_shows_only_their_departments(client, org, team):
    login(client, team["boss"])
    page = client.get("/manager/").get_data(as_text=True)
    workload = page.split('id="workload"')[1].split("</table>")[0]
    assert "Ann Agent" in workload and "Unassigned" in workload
    assert "Support" not in page.split('id="report-form"')[1].split("</form>")[0]  # not theirs to report on


def test_the_sla_report_counts_met_and_breached_for_the_period(client, org, team):
    sla.sweep(team["now"])  # the overdue P1s breach
    _db.session.commit()
    report = reports.sla_report(team["boss"], [team["facilities"].id], 7, now=team["now"])
    first = report["first_response"]
    # Answered in 5 minutes once; the 3-hour-old ticket never was and breached.
    assert (first["met"], first["breached"], first["percent"], first["median_seconds"]) == (1, 1, 50.0, 300)
    login(client, team["boss"])
    page = client.get(f"/manager/?department={team['facilities'].id}&days=7").get_data(as_text=True)
    assert 'id="sla-report"' in page and "First response" in page


@pytest.mark.parametrize("query", ["?days=abc", "?days=-5", "?department=999999", "?department=x&days=1000"])
def test_odd_report_parameters_fall_back_instead_of_failing(client, org, team, query):
    login(client, team["boss"])
    response = client.get(f"/manager/{query}")
    assert response.status_code == 200 and "last 30 days" in response.get_data(as_text=True)


def test_another_organizations_department_is_not_reportable(client, org, other_org, team):
    theirs = factories.make_department(other_org, "Globex Ops")
    login(client, team["boss"])
    page = client.get(f"/manager/?department={theirs.id}").get_data(as_text=True)
    assert "Globex Ops" not in page


def test_the_page_title_is_just_the_title(client, org, team):
    login(client, team["boss"])
    page = client.get("/manager/").get_data(as_text=True)
    title = page.split("<title>")[1].split("</title>")[0]
    assert title.strip() == "Manager · AutoTrack"
    assert page.count('id="workload"') == 1
