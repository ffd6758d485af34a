"""Job functions. Each runs inside an app context provided by its runner (the RQ worker class
or the embedded scheduler), takes only ids or plain values, and calls one service."""

import logging
from datetime import datetime

from autotrack.extensions import db
from autotrack.models.types import utcnow
from autotrack.services import health, outbox, sla, throttle
from autotrack.services.mail import mailboxes
from autotrack.services.org import directory_sync

log = logging.getLogger(__name__)


def sla_sweep(now_iso=None):
    """Evaluate every SLA moment that has come (warnings, breaches, escalation levels)."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    result = sla.sweep(now)
    if result.tickets_examined:
        log.info("SLA sweep: %s", result.summary())
    health.beat("sla_sweep", result.summary(), now=utcnow())
    db.session.commit()
    return result.summary()


def deliver_outbox():
    """Send the emails that are due."""
    result = outbox.deliver_all_due(now=utcnow())
    if result.sent or result.retrying or result.failed:
        log.info("Outbox: %s", result.summary())
    health.beat("outbox_delivery", result.summary(), now=utcnow())
    db.session.commit()
    return result.summary()


def fetch_mail():
    """Import new mail from every active IMAP mailbox into tickets and replies."""
    report = mailboxes.fetch_all(now=utcnow())
    if any(report.values()):
        log.info("Mail: %s", report)
    return str(report)


def sync_directories():
    """Read each organization's directory source whose period has come (once per period)."""
    runs = directory_sync.run_due(now=utcnow())
    for run in runs:
        log.info(
            "Directory sync of organization %s: %s (+%s ~%s -%s)%s",
            run.org_id,
            run.status,
            run.added,
            run.changed,
            run.removed,
            f": {run.error}" if run.error else "",
        )
    return f"{len(runs)} directory sync(s)"


def housekeeping():
    """Drop what has served its purpose: rate-limit counters of windows long past."""
    pruned = throttle.prune(utcnow())
    db.session.commit()
    return f"pruned {pruned} rate-limit counters"
