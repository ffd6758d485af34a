"""The embedded runner: without Redis, one daemon thread runs the declared periodic jobs."""

import importlib
import logging
import threading
import time

from autotrack.jobs.schedule import SCHEDULE

log = logging.getLogger(__name__)


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


class EmbeddedScheduler(threading.Thread):
    """Runs each periodic job at its interval, in an app context, until `stop()`."""

    def __init__(self, app, schedule=SCHEDULE, tick_seconds=1.0):
        super().__init__(name="autotrack-embedded-scheduler", daemon=True)
        self.app = app
        self.schedule = schedule
        self.tick_seconds = tick_seconds
        self._stopping = threading.Event()

    def run(self):
        next_run = {job.id: time.monotonic() for job in self.schedule}
        while not self._stopping.is_set():
            for job in self.schedule:
                if time.monotonic() >= next_run[job.id]:
                    next_run[job.id] = time.monotonic() + job.interval_seconds
                    self.run_job(job)
            self._stopping.wait(self.tick_seconds)

    def run_job(self, job):
        from autotrack.extensions import db

        with self.app.app_context():
            try:
                _resolve(job.func)()
            except Exception:  # a failing job must not kill the scheduler
                db.session.rollback()
                log.exception("Periodic job %s failed; it runs again in %ss", job.id, job.interval_seconds)

    def stop(self):
        self._stopping.set()


_started = threading.Lock()


def start_embedded_scheduler(app):
    """Start the thread once per process (called on the first request)."""
    if _started.acquire(blocking=False):
        scheduler = EmbeddedScheduler(app)
        scheduler.start()
        log.info("Embedded scheduler started: %s", ", ".join(j.id for j in SCHEDULE))
        return scheduler
    return None
