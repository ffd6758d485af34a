"""SLA: the clocks on every ticket, the sweep that fires their warnings, breaches and escalations,
the notices it sends, and what is read from them (timeline, reports, reminders).

- settings.py: an organization's SLA settings (cached), the clocks' names and columns;
- clocks.py: keeping the clocks (called by the ticket service), the badge, the overdue SQL;
- sweep.py: `sweep(now)`, which runs changes.py first and reminders.py last;
- notices.py: who the sweep tells and how (notifications, outbox rows);
- changes.py (settings changes recomputed), reminders.py (overdue digests), timeline.py (why a
  ticket is due when it is), reports.py (compliance), business_calendar.py (working time).

Nothing here imports the sweep but the sweep itself. The names below are re-exported for callers
(`sla.sweep(now)`, `sla.status_of(ticket, now)`): note that `sla.sweep` is the function; the module
is `importlib.import_module("autotrack.services.sla.sweep")`.
"""

from autotrack.services.sla.clocks import (
    CLOCK_FIELDS,
    SWEEP_COLUMNS,
    SlaStatus,
    at_risk_clause,
    breached_clause,
    change_priority,
    next_check_at,
    overdue_clause,
    past_warning_clause,
    pause_clocks,
    recompute,
    refresh_next_check,
    requester_wrote,
    resolve_clocks,
    resume_clocks,
    staff_replied,
    start_clocks,
    status_of,
    stop_update_cycle,
)
from autotrack.services.sla.settings import (
    CLOCK_LABELS,
    CLOCKS,
    TICKING_STATES,
    OrgSlaSettings,
    calendar_for,
    org_settings,
    target_words,
)
from autotrack.services.sla.sweep import SweepResult, sweep

__all__ = [
    "CLOCKS",
    "CLOCK_FIELDS",
    "CLOCK_LABELS",
    "SWEEP_COLUMNS",
    "TICKING_STATES",
    "OrgSlaSettings",
    "SlaStatus",
    "SweepResult",
    "at_risk_clause",
    "breached_clause",
    "calendar_for",
    "change_priority",
    "next_check_at",
    "org_settings",
    "overdue_clause",
    "past_warning_clause",
    "pause_clocks",
    "recompute",
    "refresh_next_check",
    "requester_wrote",
    "resolve_clocks",
    "resume_clocks",
    "staff_replied",
    "start_clocks",
    "status_of",
    "stop_update_cycle",
    "sweep",
    "target_words",
]
