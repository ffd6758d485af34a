"""Working-time arithmetic on an organization's business calendar (or around the clock).

All inputs and outputs are aware UTC datetimes; working hours are wall-clock times in the
organization's IANA timezone, so a 09:00–17:00 day stays 09:00–17:00 across DST changes.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import BusinessCalendar, Holiday, Organization, WorkingHours

# A calendar with no working time at all would never reach a deadline; stop looking after this.
MAX_SCAN_DAYS = 3 * 366
ZERO = timedelta(0)


def _instant(day, minute, tz):
    """The UTC instant of `minute` minutes after local midnight of `day` (1440 = next midnight)."""
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class WorkCalendar:
    """Weekly working periods plus holidays in one timezone; `always` means 24x7."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    periods: dict = field(default_factory=dict)  # weekday (0 = Monday) -> ((start, end) minutes, …)
    holidays: frozenset = frozenset()
    always: bool = False

    @property
    def day_minutes(self):
        """Working minutes in a working day, when every working day has as many (None when they
        differ, or around the clock): what a "working day" of a target is."""
        if self.always:
            return None
        lengths = {sum(end - begin for begin, end in spans) for spans in self.periods.values() if spans}
        return lengths.pop() if len(lengths) == 1 else None

    def intervals(self, start):
        """Working intervals (UTC start, UTC end) from `start` onwards, in order."""
        first_day = start.astimezone(self.tz).date() - timedelta(days=1)  # a period may cross midnight UTC
        for offset in range(MAX_SCAN_DAYS):
            day = first_day + timedelta(days=offset)
            if day in self.holidays:
                continue
            for begin, end in self.periods.get(day.weekday(), ()):
                a, b = _instant(day, begin, self.tz), _instant(day, end, self.tz)
                if b > start:
                    yield max(a, start), b
        raise ValueError("the business calendar has no working time in the next three years")

    def add(self, start, minutes):
        """The instant when `minutes` (a number, or a timedelta) of working time have passed since `start`."""
        remaining = minutes if isinstance(minutes, timedelta) else timedelta(minutes=minutes)
        if self.always:
            return start + remaining
        if remaining <= ZERO:
            return start
        for a, b in self.intervals(start):
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
        raise AssertionError("unreachable")  # intervals() raises first

    def intervals_back(self, end):
        """Working intervals (UTC start, UTC end) before `end`, latest first."""
        last_day = end.astimezone(self.tz).date() + timedelta(days=1)
        for offset in range(MAX_SCAN_DAYS):
            day = last_day - timedelta(days=offset)
            if day in self.holidays:
                continue
            for begin, finish in reversed(self.periods.get(day.weekday(), ())):
                a, b = _instant(day, begin, self.tz), _instant(day, finish, self.tz)
                if a < end:
                    yield a, min(b, end)
        raise ValueError("the business calendar has no working time in the last three years")

    def back(self, end, minutes):
        """The instant `minutes` (a number, or a timedelta) of working time before `end`."""
        remaining = minutes if isinstance(minutes, timedelta) else timedelta(minutes=minutes)
        if self.always:
            return end - remaining
        if remaining <= ZERO:
            return end
        for a, b in self.intervals_back(end):
            if b - a >= remaining:
                return b - remaining
            remaining -= b - a
        raise AssertionError("unreachable")  # intervals_back() raises first

    def shift(self, start, delta):
        """`start` moved by `delta` of working time: later when positive, earlier when negative."""
        return self.add(start, delta) if delta >= ZERO else self.back(start, -delta)

    def between(self, start, end):
        """Working time from `start` to `end` (negative when `end` comes first)."""
        if end < start:
            return -self.between(end, start)
        if self.always:
            return end - start
        total = ZERO
        for a, b in self.intervals(start):
            if a >= end:
                break
            total += min(b, end) - a
        return total


ALWAYS = WorkCalendar(always=True)


def business_calendar(org_id):
    """The organization's business calendar; an empty week means around the clock."""
    tz_name = db.session.scalar(select(Organization.timezone).where(Organization.id == org_id))
    calendar_id = db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org_id))
    periods = {}
    holidays = frozenset()
    if calendar_id is not None:
        rows = db.session.execute(
            select(WorkingHours.weekday, WorkingHours.start_minute, WorkingHours.end_minute)
            .where(WorkingHours.calendar_id == calendar_id)
            .order_by(WorkingHours.weekday, WorkingHours.start_minute)
        ).all()
        for weekday, begin, end in rows:
            if end > begin:
                periods.setdefault(weekday, []).append((begin, end))
        holidays = frozenset(db.session.scalars(select(Holiday.date).where(Holiday.calendar_id == calendar_id)))
    if not periods:
        return WorkCalendar(tz=ZoneInfo(tz_name or "UTC"), always=True)
    return WorkCalendar(
        tz=ZoneInfo(tz_name or "UTC"),
        periods={day: tuple(p) for day, p in periods.items()},
        holidays=holidays,
    )
