"""The periodic jobs, declared once. Both runners (rq-scheduler and the embedded thread) read
this list; the job ids are fixed so a restart or a second scheduler never registers twice."""

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class PeriodicJob:
    id: str  # RQ job ids allow letters, digits, '-' and '_'
    func: str  # dotted path, so RQ can import it in the worker
    interval_seconds: int
    timeout_seconds: int = 300


SCHEDULE = (
    PeriodicJob("periodic-sla-sweep", "autotrack.jobs.tasks.sla_sweep", 60),
    PeriodicJob("periodic-outbox-delivery", "autotrack.jobs.tasks.deliver_outbox", 30),
    PeriodicJob("periodic-mail-fetch", "autotrack.jobs.tasks.fetch_mail", 60),
    PeriodicJob("periodic-housekeeping", "autotrack.jobs.tasks.housekeeping", 3600),
    # Each organization's directory is read once per its own interval; this only looks whether one is due.
    PeriodicJob("periodic-directory-sync", "autotrack.jobs.tasks.sync_directories", 600),
)
ID_PREFIX = "periodic-"  # ids we own in rq-scheduler; anything else there is left alone
QUEUE_NAME = "default"


def reconcile(scheduler, schedule=SCHEDULE):
    """Make rq-scheduler hold exactly the declared periodic jobs; safe to run at every start.

    An unchanged job keeps its next run time; a changed one is replaced; a job we no longer
    declare is cancelled and deleted. Returns (added, removed) ids.
    """
    wanted = {job.id: job for job in schedule}
    existing = {job.id: job for job in scheduler.get_jobs()}
    removed = []
    for job_id, job in existing.items():
        if job_id.startswith(ID_PREFIX) and job_id not in wanted:
            scheduler.cancel(job)
            job.delete()
            removed.append(job_id)
    added = []
    for job_id, spec in wanted.items():
        current = existing.get(job_id)
        if (
            current is not None
            and current.func_name == spec.func
            and current.meta.get("interval") == spec.interval_seconds
        ):
            continue
        scheduler.schedule(
            scheduled_time=datetime.now(UTC),
            func=spec.func,
            interval=spec.interval_seconds,
            repeat=None,
            id=job_id,
            queue_name=QUEUE_NAME,
            timeout=spec.timeout_seconds,
            result_ttl=600,
        )
        added.append(job_id)
    return added, removed
