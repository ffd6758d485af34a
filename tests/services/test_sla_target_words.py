"""Targets in words people read right: on business hours "24 working hours (3 working days)",
never "1 day"; around the clock "24 hours". One function words them for the console's
priority list, the SLA timeline and the SLA report."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, WorkingHours
from autotrack.services import tickets
from autotrack.services.timefmt import target_words
from tests import factories
from tests.conftest import login
from tests.helpers import T0


@pytest.mark.parametrize(
    "minutes, always, day, words",
    [
        (1440, False, 480, "24 working hours (3 working days)"),
        (4320, False, 480, "72 working hours (9 working days)"),
        (600, False, 480, "10 working hours (1 working day 2 hours)"),
        (240, False, 480, "4 working hours"),
        (90, False, 480, "1 working hour 30 minutes"),
        (15, False, 480, "15 working minutes"),
        (1440, False, None, "24 working hours"),  # working days of different lengths: no day count
        (1440, True, None, "24 hours"),
        (120, True, None, "2 hours"),
        (15, True, None, "15 minutes"),
    ],
)
def test_a_target_in_words(minutes, always, day, words):
    assert target_words(minutes, always=always, working_day_minutes=day) == words


def test_the_console_priority_list_says_working_hours_and_days(client, org):
    login(client, factories.admin_of(org))
    page = client.get("/admin/priority/").get_data(as_text=True)
    assert "24 working hours (3 working days) · 1440 min" in page  # P3 resolution, Mon-Fri 09-17
    assert "72 working hours (9 working days) · 4320 min" in page  # P4 resolution
    assert "2 hours · 120 min" in page and "15 minutes · 15 min" in page  # P1, around the clock
    assert "1 day" not in page


def test_the_timeline_says_it_the_same_way(client, org):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = tickets.create_ticket(employee, title="Badge reader", now=T0)  # P3
    _db.session.commit()
    login(client, agent)
    page = client.get(f"/agent/tickets/{ticket.reference}/sla").get_data(as_text=True)
    resolution = page[page.index('data-clock="resolution"') :]
    assert 'sla-target">24 working hours (3 working days)<' in resolution
    assert "start: P3: 24 working hours (3 working days)" in resolution
    first = page[page.index('data-clock="first_response"') : page.index('data-clock="resolution"')]
    assert 'sla-target">4 working hours<' in first
    assert "1 day" not in page


def test_the_sla_report_lists_the_targets_it_measures_against(client, org):
    login(client, factories.make_user(org, "manager"))
    page = client.get("/manager/reports/sla?since=2026-11-23&until=2026-12-06").get_data(as_text=True)
    targets = page[page.index('id="sla-targets"') :]
    targets = targets[: targets.index("</table>")]
    p3 = next(row for row in targets.split("<tr>") if "<td>P3</td>" in row)
    assert "<td>4 working hours</td>" in p3 and "<td>24 working hours (3 working days)</td>" in p3
    p1 = next(row for row in targets.split("<tr>") if "<td>P1</td>" in row)
    assert "<td>15 minutes</td>" in p1 and "<td>2 hours</td>" in p1


def test_a_working_day_is_as_long_as_the_calendar_says(client, org):
    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    for hours in _db.session.scalars(select(WorkingHours).where(WorkingHours.calendar_id == calendar_id)):
        hours.start_minute, hours.end_minute = 8 * 60, 18 * 60  # 10-hour days
    _db.session.commit()
    login(client, factories.admin_of(org))
    assert "24 working hours (2 working days 4 hours)" in client.get("/admin/priority/").get_data(as_text=True)
    friday = _db.session.scalar(
        select(WorkingHours).where(WorkingHours.calendar_id == calendar_id, WorkingHours.weekday == 4)
    )
    friday.end_minute = 13 * 60  # a short Friday: working days differ, so no day count
    _db.session.commit()
    page = client.get("/admin/priority/").get_data(as_text=True)
    assert "24 working hours · 1440 min" in page and "working days" not in page
