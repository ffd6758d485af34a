"""What an organization's SLA clocks are computed with: its settings (cached per settings
token), the clocks' names and columns, and how a target reads.
"""

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import (
    EscalationRule,
    Lifecycle,
    Organization,
    SlaCalendar,
)
from autotrack.services import org_cache
from autotrack.services.sla.business_calendar import ALWAYS, business_calendar
from autotrack.services.timefmt import target_words as _target_words

CLOCKS = ("first_response", "resolution", "next_response")
TICKING_STATES = (Lifecycle.NEW, Lifecycle.OPEN)  # pending is paused; resolved and closed are stopped
CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution", "next_response": "next response"}
_STOPPED_AT = {"first_response": "first_response_at", "resolution": "resolved_at", "next_response": "next_response_at"}
_TARGET = {
    "first_response": "first_response_minutes",
    "resolution": "resolution_minutes",
    "next_response": "next_response_minutes",
}


@dataclass(frozen=True)
class OrgSlaSettings:
    """What an organization's SLA clocks are computed with."""

    calendar: object  # WorkCalendar: the business calendar
    warning_percent: int
    delays: tuple  # ((level, delay minutes), …) of the active escalation rules, in level order

    def calendar_for(self, priority):
        return ALWAYS if priority.calendar == SlaCalendar.ALWAYS else self.calendar


_SETTINGS_CACHE = {}  # (org_id, settings_token) -> OrgSlaSettings
_SETTINGS_CACHE_MAX = 1024


def org_settings(org_id):
    """The organization's SLA settings, from the process's cache while its settings token
    is unchanged (one query instead of six; models/settings_events.py renews the token in
    the transaction of any change, so no cached value outlives what it was built from). The
    token comes from the session's Organization object when the request loaded it: no query."""
    token = org_cache.token_of(org_id)
    key = (org_id, token)
    settings = _SETTINGS_CACHE.get(key)
    if settings is None:
        percent = db.session.scalar(select(Organization.sla_warning_percent).where(Organization.id == org_id))
        settings = OrgSlaSettings(
            business_calendar(org_id), percent, tuple(_escalation_delays([org_id]).get(org_id, ()))
        )
        if len(_SETTINGS_CACHE) >= _SETTINGS_CACHE_MAX:
            _SETTINGS_CACHE.clear()
        _SETTINGS_CACHE[key] = settings
    return settings


def calendar_for(priority):
    return org_settings(priority.org_id).calendar_for(priority)


def target_words(org_id, minutes, calendar_kind):
    """A target of `minutes` on a priority of `calendar_kind` (SlaCalendar) as people read it:
    "24 working hours (3 working days)" on the organization's business hours, "24 hours" around
    the clock. The console's priority list, the SLA timeline and the SLA report all say it so."""
    calendar = ALWAYS if calendar_kind == SlaCalendar.ALWAYS else org_settings(org_id).calendar
    return _target_words(minutes, always=calendar.always, working_day_minutes=calendar.day_minutes)


def _target(priority, clock):
    """The clock's target in minutes; None for an update clock the priority does not set."""
    return getattr(priority, _TARGET[clock])


# (clock, what) -> column name, built once: the sweep asks this hundreds of thousands of times.
_COLUMN = {
    (clock, what): f"{clock}_{what}" for clock in CLOCKS for what in ("due_at", "warn_at", "warned_at", "breached_at")
}


def _get(ticket, clock, what):
    return getattr(ticket, _COLUMN[clock, what])


def _set(ticket, clock, what, value):
    setattr(ticket, _COLUMN[clock, what], value)


def _is_stopped(ticket, clock):
    return getattr(ticket, _STOPPED_AT[clock]) is not None


def _escalation_delays(org_ids):
    """org_id -> [(level, delay minutes)] of the active rules, in level order."""
    rows = db.session.execute(
        select(EscalationRule.org_id, EscalationRule.level, EscalationRule.delay_minutes)
        .where(EscalationRule.org_id.in_(org_ids), EscalationRule.is_active.is_(True))
        .order_by(EscalationRule.org_id, EscalationRule.level)
    ).all()
    delays = defaultdict(list)
    for org_id, level, delay in rows:
        delays[org_id].append((level, delay))
    return delays


@lru_cache(maxsize=4096)
def _local(moment, tz_name):
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%a %d %b %Y %H:%M %Z")
