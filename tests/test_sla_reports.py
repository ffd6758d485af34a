"""SLA reports: compliance per clock over a chosen period by department, agent, category or
priority, the weekly trend, the CSV export, and who sees what."""

import csv
import io
from datetime import date, timedelta

import pytest

from autotrack.extensions import db as _db
from autotrack.services import sla, tickets
from autotrack.services.org import orgs
from autotrack.services.sla import reports as sla_reports
from tests import factories
from tests.conftest import login
from tests.helpers import MIN, T0

WEEK_AFTER = T0 + timedelta(days=7)


@pytest.fixture
def history(org):
    """Two departments' tickets over two weeks: first responses met and missed, a resolution in
    time, and update-clock cycles answered in time and late."""
    support = factories.default_department(org)
    facilities = orgs.create_department(org, "=Facilities")  # a name a spreadsheet would run
    _db.session.commit()
    people = {
        "employee": factories.make_user(org, email="emp@acme.example"),
        "ann": factories.make_user(org, "agent", department=support, name="Ann"),
        "bob": factories.make_user(org, "agent", department=facilities, name="Bob"),
        "manager": factories.make_user(org, "manager", department=support),
    }
    p1 = factories.priority(org, "P1")  # 24x7: first response 15 minutes
    p1.next_response_minutes = 30
    p1.resolution_minutes = 100_000
    _db.session.commit()

    def raised(agent, department, at):
        ticket = tickets.create_ticket(
            agent, title="Issue", priority=p1, department=department, requester=people["employee"], now=at
        )
        tickets.assign(agent, ticket, agent, now=at)
        return ticket

    quick = raised(people["ann"], support, T0)  # answered in 5 min: first response and cycle 1 met
    tickets.add_comment(people["ann"], quick, "On it", now=T0 + 5 * MIN)
    slow = raised(people["ann"], support, T0)  # never answered: both breach at the sweep
    fixed = raised(people["bob"], facilities, WEEK_AFTER)
    tickets.add_comment(people["bob"], fixed, "Done", now=WEEK_AFTER + 10 * MIN)
    tickets.transition(people["bob"], fixed, "resolve", now=WEEK_AFTER + 20 * MIN)
    _db.session.commit()
    sla.sweep(T0 + 40 * MIN)
    return {**people, "support": support, "facilities": facilities, "quick": quick, "slow": slow}


def cells(report, name):
    return {clock: (c.met, c.breached) for clock, c in dict(report.rows)[name].items()}


def test_compliance_per_clock_and_department(org, history):
    report = sla_reports.build(org.id, None, date(2026, 11, 23), date(2026, 12, 6))
    assert cells(report, "Support") == {"first_response": (1, 1), "next_response": (1, 1)}
    assert cells(report, "=Facilities") == {"first_response": (1, 0), "next_response": (1, 0), "resolution": (1, 0)}
    assert report.rows[0][0] == "Support"  # worst first
    assert report.totals["first_response"].percent == pytest.approx(66.7)
    # Weekly trend: Support's week at 50 %, Facilities' week at 100 %.
    assert [(week, c["first_response"].percent) for week, c in report.trend] == [
        (date(2026, 11, 23), 50.0),
        (date(2026, 11, 30), 100.0),
    ]


def test_grouped_by_agent_priority_and_a_period_without_them(org, history):
    by_agent = sla_reports.build(org.id, None, date(2026, 11, 23), date(2026, 12, 6), "agent")
    assert sorted(name for name, _ in by_agent.rows) == ["Ann", "Bob"]
    by_priority = sla_reports.build(org.id, None, date(2026, 11, 23), date(2026, 12, 6), "priority")
    assert [name for name, _ in by_priority.rows] == ["P1"]
    earlier = sla_reports.build(org.id, None, date(2026, 11, 1), date(2026, 11, 22))
    assert earlier.rows == [] and earlier.totals == {}


def test_a_manager_sees_their_departments_and_downloads_a_safe_csv(client, org, history):
    login(client, history["manager"])
    page = client.get("/manager/reports/sla?since=2026-11-23&until=2026-12-06")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Support" in html and "=Facilities" not in html  # not theirs
    refused = client.get(
        f"/manager/reports/sla?since=2026-11-23&until=2026-12-06&department={history['facilities'].id}"
    )
    assert "Not one of your departments." in refused.get_data(as_text=True)

    export = client.get("/manager/reports/sla?since=2026-11-23&until=2026-12-06&by=agent&format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "sla-agent-20261123-20261206.csv" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0][:4] == ["Agent", "first response met", "first response breached", "first response compliance %"]
    assert rows[1][:4] == ["Ann", "1", "1", "50.0"] and rows[-1][0] == "All"


def test_an_org_admin_sees_the_organization_and_formulas_stay_text(client, org, history):
    login(client, factories.admin_of(org))
    export = client.get("/manager/reports/sla?since=2026-11-23&until=2026-12-06&format=csv")
    names = [row[0] for row in csv.reader(io.StringIO(export.get_data(as_text=True)))]
    assert "'=Facilities" in names and "Support" in names  # neutralised for spreadsheets


@pytest.mark.parametrize(
    "query, message",
    [
        ("since=yesterday", "Write the date as YYYY-MM-DD."),
        ("since=2026-12-06&until=2026-11-23", "The end comes before the start."),
        ("since=2025-01-01&until=2026-12-06", "At most 366 days at once."),
        ("by=weather", "Choose department, agent, category or priority."),
    ],
)
def test_bad_choices_are_named_and_nothing_breaks(client, org, history, query, message):
    login(client, history["manager"])
    page = client.get(f"/manager/reports/sla?{query}")
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert client.get(f"/manager/reports/sla?{query}&format=csv").status_code == 400


def test_employees_and_agents_have_no_reports(client, org, history):
    login(client, history["ann"])
    assert client.get("/manager/reports/sla").status_code in (403, 302)
