"""Benchmark: one SLA sweep over N open tickets of which ~1% have just breached.

Not a test: run by hand and read the table. All three clocks run (P1 has an update target);
half the breaching tickets miss their first response, half an answer the requester awaits.

    .venv/bin/python bench/sla_sweep.py                       # 1,000,000 tickets on SQLite
    .venv/bin/python bench/sla_sweep.py --n 100000
    .venv/bin/python bench/sla_sweep.py --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_bench?charset=utf8mb4'

The seed goes straight into the tables (Core bulk inserts); the sweep runs in a fresh process
so its peak RSS is its own. Targets (2-core machine): 1M tickets swept in < 2 s on SQLite,
< 3 s on MariaDB, peak RSS < 300 MB, a second sweep at the same moment < 0.5 s.
"""

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DEPARTMENTS = 20
CHUNK = 20_000


def make_app(url):
    from autotrack import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "AUTOTRACK_EMBEDDED_JOBS": False,
            "SQLALCHEMY_ENGINE_OPTIONS": __import__("config").sqlalchemy_engine_options(url),
            "AUTOTRACK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def reset_database(url):
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        server = create_engine(parsed.set(database=""))
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
            conn.execute(text(f"CREATE DATABASE `{parsed.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        server.dispose()


def seed(url, n, fraction, layout="spread"):
    """Migrate, create one organization with DEPARTMENTS teams, then bulk-insert n P1 tickets.

    layout "spread": the breaching tickets are every 1/fraction-th row, each on its own database
    page (the worst case); "recent": they are the newest rows, as when a burst of tickets raised
    together all miss their deadline (each page holds several)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from autotrack.extensions import db
    from autotrack.models import Priority, Status, Ticket
    from autotrack.services.org import orgs

    reset_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        org = orgs.create_org("Bench Corp", "bench", admin_email="admin@bench.example", admin_password="bench-pass-1")
        departments = [orgs.create_department(org, f"Team {i}") for i in range(DEPARTMENTS)]
        for i, department in enumerate(departments):
            orgs.create_user(org, f"lead{i}@bench.example", role_key="agent", department=department, lead=True)
            orgs.create_user(org, f"manager{i}@bench.example", role_key="manager", department=department)
        requester = orgs.create_user(org, "requester@bench.example")
        db.session.commit()
        p1 = db.session.scalar(select(Priority).where(Priority.org_id == org.id, Priority.name == "P1"))
        p1.next_response_minutes = 60  # all three clocks run
        db.session.commit()
        status = db.session.scalar(select(Status).where(Status.org_id == org.id, Status.category == "open"))
        every = max(1, round(1 / fraction)) if fraction else n + 1
        table = Ticket.__table__
        started = time.perf_counter()
        for first in range(0, n, CHUNK):
            rows = []
            for i in range(first, min(first + CHUNK, n)):
                created = NOW - timedelta(minutes=30)
                breaching = i % every == 0 if layout == "spread" else i >= n - n * fraction
                row = {
                    "org_id": org.id,
                    "number": 1001 + i,
                    "title": f"Bench ticket {i}",
                    "description": "",
                    "requester_id": requester.id,
                    "department_id": departments[i % DEPARTMENTS].id,
                    "priority_id": p1.id,
                    "status_id": status.id,
                    "state": "open",
                    "source": "web",
                    "escalation_level": 0,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "resolution_due_at": NOW + timedelta(hours=1, minutes=30),
                    "resolution_warn_at": NOW + timedelta(minutes=60),
                    "first_response_warned_at": None,
                    "first_response_at": None,
                    # The update clock's first cycle, from the ticket's creation.
                    "next_response_cycle": 1,
                    "next_response_started_at": created,
                    "next_response_due_at": created + timedelta(minutes=60),
                    "next_response_warn_at": created + timedelta(minutes=45),
                    "next_response_at": None,
                }
                if breaching and i % 2 == 0:  # first response was due 5 minutes ago; warned already
                    row.update(
                        first_response_due_at=NOW - timedelta(minutes=5),
                        first_response_warn_at=NOW - timedelta(minutes=9),
                        first_response_warned_at=NOW - timedelta(minutes=9),
                        sla_next_check_at=NOW - timedelta(minutes=5),
                    )
                else:  # answered in time; the next moment is the resolution warning
                    row.update(
                        first_response_due_at=created + timedelta(minutes=15),
                        first_response_warn_at=created + timedelta(minutes=11),
                        first_response_at=created + timedelta(minutes=3),
                        next_response_at=created + timedelta(minutes=3),
                        sla_next_check_at=NOW + timedelta(minutes=60),
                    )
                    if breaching:  # answered, but the requester's next message waits: due 5 minutes ago
                        row.update(
                            next_response_cycle=2,
                            next_response_started_at=NOW - timedelta(minutes=65),
                            next_response_due_at=NOW - timedelta(minutes=5),
                            next_response_warn_at=NOW - timedelta(minutes=20),
                            next_response_warned_at=NOW - timedelta(minutes=20),
                            next_response_at=None,
                            sla_next_check_at=NOW - timedelta(minutes=5),
                        )
                rows.append(row)
            db.session.execute(table.insert(), rows)
            db.session.commit()
        seed_seconds = time.perf_counter() - started
        if url.startswith("mysql"):
            db.session.execute(db.text("ANALYZE TABLE tickets"))
        else:
            db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    return seed_seconds


def reset_to_seed(url):
    """Undo a previous sweep of the seeded data (its breaching tickets are the unanswered ones),
    so --reuse measures again without reseeding."""
    from sqlalchemy import text

    from autotrack.extensions import db

    app = make_app(url)
    with app.app_context():
        for table in ("sla_events", "notifications", "outbox_emails", "audit_events"):
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.execute(
            text(
                "UPDATE tickets SET first_response_breached_at = NULL, next_response_breached_at = NULL, "
                "escalation_level = 0, assignee_id = NULL, version = 1, "
                "sla_next_check_at = CASE WHEN first_response_at IS NULL THEN first_response_due_at "
                "ELSE next_response_due_at END "
                "WHERE first_response_at IS NULL OR (next_response_at IS NULL AND next_response_cycle = 2)"
            )
        )
        db.session.commit()


def sweep_once(url, profile=False):
    """Run in a fresh process: two sweeps at the same moment; print figures as JSON."""
    from sqlalchemy import event, func, select

    from autotrack.extensions import db
    from autotrack.models import OutboxEmail
    from autotrack.services import sla

    app = make_app(url)
    figures = {}
    with app.app_context():
        counter = {"n": 0}

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args):
            counter["n"] += 1

        db.session.scalar(select(func.count()).select_from(OutboxEmail))  # connect outside the timing
        counter["n"] = 0
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = sla.sweep(NOW)
        figures["sweep_seconds"] = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        figures["queries"] = counter["n"]
        figures["escalated"] = sum(result.escalated.values())
        figures["breached"] = result.breached
        figures["emails"] = result.emails_queued
        counter["n"] = 0
        started = time.perf_counter()
        again = sla.sweep(NOW)
        figures["second_sweep_seconds"] = time.perf_counter() - started
        figures["second_sweep_queries"] = counter["n"]
        figures["second_sweep_emails"] = again.emails_queued
        figures["outbox_rows"] = db.session.scalar(select(func.count()).select_from(OutboxEmail))
        if url.startswith("mysql"):  # the figure depends on whether the touched pages fit in it
            figures["buffer_pool_mb"] = db.session.scalar(db.text("SELECT @@innodb_buffer_pool_size")) / 2**20
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="open tickets to seed")
    parser.add_argument("--fraction", type=float, default=0.01, help="share of tickets that just breached")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temp dir")
    parser.add_argument(
        "--layout",
        choices=("spread", "recent"),
        default="spread",
        help="where the breaching tickets sit among the others (default: spread, the worst case)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="undo the last sweep and measure again on the data seeded last time"
    )
    parser.add_argument("--profile", action="store_true", help="print the sweep's cProfile (top 25 by own time)")
    parser.add_argument("--sweep-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-bench.db'}"
    if args.sweep_only:
        return sweep_once(url, args.profile)

    if args.reuse:
        reset_to_seed(url)
        seed_seconds = None
    else:
        seed_seconds = seed(url, args.n, args.fraction, args.layout)
    run = subprocess.run(
        [sys.executable, __file__, "--sweep-only", "--database-url", url] + (["--profile"] if args.profile else []),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "AUTOTRACK_LOG_LEVEL": "WARNING"},
    )
    if run.returncode != 0:
        sys.exit(run.stderr)
    if args.profile:
        print(run.stderr)
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    database = "MariaDB" if url.startswith("mysql") else "SQLite"
    if "buffer_pool_mb" in figures:
        database += f" (InnoDB buffer pool {figures['buffer_pool_mb']:,.0f} MB)"
    rows = [
        ("database", database),
        ("open tickets", "(as seeded last time)" if args.reuse else f"{args.n:,} (breaching ones {args.layout})"),
        ("seed time", "(reused)" if seed_seconds is None else f"{seed_seconds:.1f} s"),
        ("sweep time", f"{figures['sweep_seconds']:.2f} s"),
        ("tickets breached", f"{figures['breached']:,}"),
        ("tickets escalated", f"{figures['escalated']:,}"),
        ("emails queued", f"{figures['emails']:,}"),
        ("queries issued (sweep)", f"{figures['queries']:,}"),
        (
            "second sweep, same moment",
            f"{figures['second_sweep_seconds']:.3f} s, "
            f"{figures['second_sweep_queries']} queries, "
            f"{figures['second_sweep_emails']} emails",
        ),
        ("peak RSS (sweep process)", f"{figures['peak_rss_mb']:.0f} MB"),
    ]
    print_table(rows)


def print_table(rows):
    """(measure, value) pairs as a Markdown table, ready for docs/performance/."""
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
