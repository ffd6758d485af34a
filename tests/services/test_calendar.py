"""Working-time arithmetic: weekends, nights, holidays, DST switches, breaks, 24x7."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrack.services.sla.business_calendar import ALWAYS, WorkCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = {day: ((9 * 60, 17 * 60),) for day in range(5)}
WITH_LUNCH = {day: ((9 * 60, 12 * 60), (13 * 60, 17 * 60)) for day in range(5)}


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


OFFICE = WorkCalendar(tz=BERLIN, periods=NINE_TO_FIVE, holidays=frozenset({date(2026, 12, 25)}))

# (calendar, start, working minutes, expected deadline)
DEADLINES = [
    ("inside one day", OFFICE, berlin(2026, 11, 24, 10, 0), 60, berlin(2026, 11, 24, 11, 0)),
    ("across the night", OFFICE, berlin(2026, 11, 24, 16, 30), 60, berlin(2026, 11, 25, 9, 30)),
    ("raised at night", OFFICE, berlin(2026, 11, 24, 22, 0), 30, berlin(2026, 11, 25, 9, 30)),
    ("across the weekend", OFFICE, berlin(2026, 11, 27, 16, 0), 120, berlin(2026, 11, 30, 10, 0)),
    ("raised on Saturday", OFFICE, berlin(2026, 11, 28, 10, 0), 60, berlin(2026, 11, 30, 10, 0)),
    ("ends exactly at closing", OFFICE, berlin(2026, 11, 24, 9, 0), 480, berlin(2026, 11, 24, 17, 0)),
    ("a holiday is skipped", OFFICE, berlin(2026, 12, 24, 16, 0), 120, berlin(2026, 12, 28, 10, 0)),
    ("several days", OFFICE, berlin(2026, 11, 23, 9, 0), 24 * 60, berlin(2026, 11, 25, 17, 0)),
    # Europe/Berlin leaves CET for CEST on Sunday 2026-03-29 and returns on 2026-10-25.
    ("over the spring DST switch", OFFICE, berlin(2026, 3, 27, 16, 0), 120, berlin(2026, 3, 30, 10, 0)),
    ("over the autumn DST switch", OFFICE, berlin(2026, 10, 23, 16, 0), 120, berlin(2026, 10, 26, 10, 0)),
    (
        "lunch break",
        WorkCalendar(tz=BERLIN, periods=WITH_LUNCH),
        berlin(2026, 11, 24, 11, 0),
        120,
        berlin(2026, 11, 24, 14, 0),
    ),
    ("24x7 ignores nights", ALWAYS, berlin(2026, 11, 27, 16, 0), 120, berlin(2026, 11, 27, 18, 0)),
    (
        "24x7 over the DST switch counts real hours",
        ALWAYS,
        berlin(2026, 3, 28, 12, 0),
        24 * 60,
        berlin(2026, 3, 29, 13, 0),
    ),
]


@pytest.mark.parametrize("name,calendar,start,minutes,expected", DEADLINES, ids=[d[0] for d in DEADLINES])
def test_deadline(name, calendar, start, minutes, expected):
    assert calendar.add(start, minutes) == expected


@pytest.mark.parametrize("name,calendar,start,minutes,expected", DEADLINES, ids=[d[0] for d in DEADLINES])
def test_working_time_between_is_the_inverse(name, calendar, start, minutes, expected):
    assert calendar.between(start, expected) == timedelta(minutes=minutes)
    assert calendar.between(expected, start) == -timedelta(minutes=minutes)


def test_a_whole_day_calendar_has_23_hours_on_the_spring_switch():
    always_open_days = WorkCalendar(tz=BERLIN, periods={d: ((0, 1440),) for d in range(7)})
    day_start, next_day = berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)
    assert always_open_days.between(day_start, next_day) == timedelta(hours=23)


def test_working_hours_are_local_wall_clock_in_new_york():
    new_york = WorkCalendar(tz=ZoneInfo("America/New_York"), periods=NINE_TO_FIVE)
    start = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 in New York: before opening
    assert new_york.add(start, 60) == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 local


def test_a_calendar_without_working_time_refuses_instead_of_looping():
    with pytest.raises(ValueError, match="no working time"):
        WorkCalendar(tz=BERLIN, periods={}).add(berlin(2026, 1, 5, 9, 0), 10)


# --- going back: a recomputed due time that is already past -------------------------------------


def test_back_walks_working_time_backwards_over_nights_weekends_and_holidays():
    assert OFFICE.back(berlin(2026, 11, 30, 10, 0), 120) == berlin(2026, 11, 27, 16, 0)  # over the weekend
    assert OFFICE.back(berlin(2026, 12, 28, 10, 0), 120) == berlin(2026, 12, 24, 16, 0)  # over Christmas
    assert OFFICE.back(berlin(2026, 11, 24, 22, 0), 30) == berlin(2026, 11, 24, 16, 30)  # from the night
    assert OFFICE.shift(berlin(2026, 11, 24, 9, 30), timedelta(minutes=-60)) == berlin(2026, 11, 23, 16, 30)
    assert ALWAYS.back(berlin(2026, 11, 24, 10, 0), 90) == berlin(2026, 11, 24, 8, 30)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    minutes=st.integers(min_value=1, max_value=20 * 24 * 60),
    calendar=st.sampled_from([OFFICE, ALWAYS]),
)
def test_back_undoes_add_across_dst_switches(start, minutes, calendar):
    start = start.replace(tzinfo=UTC)
    due = calendar.add(start, minutes)
    # From inside working time, going back the same working time returns to the start.
    begin = next(calendar.intervals(start))[0] if not calendar.always else start
    assert calendar.back(due, minutes) == max(begin, start)
    assert calendar.between(calendar.back(due, minutes), due) == timedelta(minutes=minutes)
