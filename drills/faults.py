"""Runs `flask --app wsgi …` (a worker or a scheduler) with a fault injected, for the drills only:
the product has no fault switches of its own.

    python drills/faults.py --sweep-pause 1 --sweep-batch 20 -- jobs worker
    python drills/faults.py --every autotrack.jobs.tasks.sla_sweep=2 -- jobs scheduler --interval 1

--sweep-pause   each sweep batch holds its transaction (and its row locks) this many seconds longer
                before writing, so one sweep outlasts the scheduler's lock and the sweep interval
--sweep-batch   tickets per sweep batch (the product's default is 5,000), so a sweep has many batches
--every         a periodic job's interval in seconds, in the scheduler (the drills cannot wait minutes)
--pause-after-claim   the outbox deliverer sleeps this long after leasing its rows, before SMTP
--pause-after-send    ... after the SMTP server accepted a message, before the row is marked sent
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep-pause", type=float, default=0.0)
    parser.add_argument("--sweep-batch", type=int, default=0)
    parser.add_argument("--every", action="append", default=[], metavar="FUNC=SECONDS")
    parser.add_argument("--pause-after-claim", type=float, default=0.0)
    parser.add_argument("--pause-after-send", type=float, default=0.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    import importlib

    sweeping = importlib.import_module("autotrack.services.sla.sweep")  # the module: sla.sweep is the function
    if args.sweep_pause:
        write = sweeping._write_ticket_changes

        def slow_write(changes):
            time.sleep(args.sweep_pause)
            return write(changes)

        sweeping._write_ticket_changes = slow_write
    from autotrack.services import outbox

    if args.pause_after_claim:
        claim = outbox._claim

        def slow_claim(now, limit):
            ids, lease = claim(now, limit)
            if ids:
                time.sleep(args.pause_after_claim)
            return ids, lease

        outbox._claim = slow_claim
    if args.pause_after_send:
        sent = outbox._sent

        def slow_sent(row, lease, text, html, now):
            time.sleep(args.pause_after_send)
            return sent(row, lease, text, html, now)

        outbox._sent = slow_sent
    if args.sweep_batch:
        sweeping.sweep.__defaults__ = (args.sweep_batch,)  # sweep(now, batch_size=…)
    if args.every:
        from dataclasses import replace

        from autotrack.jobs import schedule

        intervals = dict(item.split("=") for item in args.every)
        schedule.reconcile.__defaults__ = (
            tuple(
                replace(job, interval_seconds=int(intervals.get(job.func, job.interval_seconds)))
                for job in schedule.SCHEDULE
            ),
        )

    from flask.cli import main as flask_main

    sys.argv = ["flask", "--app", "wsgi", *command]
    flask_main()


if __name__ == "__main__":
    main()
