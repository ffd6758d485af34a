"""Benchmark: the console's SLA dashboard over N tickets (default 1,000,000).

Not a test: run by hand and read the table.

    .venv/bin/python bench/dashboard.py                     # 1,000,000 tickets on SQLite
    .venv/bin/python bench/dashboard.py --n 100000
    .venv/bin/python bench/dashboard.py --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_bench?charset=utf8mb4'

Two years of history: tickets spread evenly over 730 days, 5% still open, the rest answered
and resolved, about 8% of first responses and 10% of resolutions breached (each breach with
its sla_events row, half of them escalated). Target (2-core machine): the dashboard page,
queries and rendering, in under 300 ms.
"""

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from autotrack.models.types import utcnow

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sla_sweep import make_app, print_table, reset_database  # noqa: E402  (same set-up and output)

DEPARTMENTS = 20
CHUNK = 20_000
DAYS = 730
PASSWORD = "bench-pass-1"


def seed(url, n):
    from flask_migrate import upgrade
    from sqlalchemy import select

    from autotrack.extensions import db
    from autotrack.models import Priority, SlaEvent, Status, Ticket, utcnow
    from autotrack.services.org import orgs

    reset_database(url)
    app = make_app(url)
    rng = random.Random(42)
    with app.app_context():
        upgrade()
        org = orgs.create_org("Bench Corp", "bench", admin_email="admin@bench.example", admin_password=PASSWORD)
        departments = [orgs.create_department(org, f"Team {i}") for i in range(DEPARTMENTS)]
        requester = orgs.create_user(org, "requester@bench.example")
        db.session.commit()
        priorities = db.session.scalars(select(Priority).where(Priority.org_id == org.id)).all()
        statuses = {s.category: s for s in db.session.scalars(select(Status).where(Status.org_id == org.id))}
        now = utcnow()
        started = time.perf_counter()
        for first in range(0, n, CHUNK):
            rows, events = [], []
            for i in range(first, min(first + CHUNK, n)):
                created = now - timedelta(days=DAYS) + timedelta(seconds=i * DAYS * 86400 / n)
                priority = priorities[i % len(priorities)]
                is_open = rng.random() < 0.05 or created > now - timedelta(hours=8)
                state = (
                    rng.choice(("new", "open", "open", "pending")) if is_open else rng.choice(("resolved", "closed"))
                )
                responded = None if state == "new" else created + timedelta(minutes=rng.randint(1, 120))
                resolved = None if is_open else created + timedelta(hours=rng.uniform(1, 72))
                row = {
                    "id": i + 1,
                    "org_id": org.id,
                    "number": 1001 + i,
                    "title": f"Bench ticket {i}",
                    "description": "",
                    "requester_id": requester.id,
                    "department_id": departments[i % DEPARTMENTS].id,
                    "priority_id": priority.id,
                    "status_id": statuses[state].id,
                    "state": state,
                    "source": "web",
                    "escalation_level": 0,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "first_response_due_at": created + timedelta(minutes=priority.first_response_minutes),
                    "resolution_due_at": created + timedelta(minutes=priority.resolution_minutes),
                    "first_response_warn_at": created + timedelta(minutes=priority.first_response_minutes * 0.75),
                    "resolution_warn_at": created + timedelta(minutes=priority.resolution_minutes * 0.75),
                    "first_response_at": responded,
                    "resolved_at": resolved,
                    "first_response_breached_at": None,
                    "resolution_breached_at": None,
                }
                escalated = False
                for clock, share, stopped in (("first_response", 0.08, responded), ("resolution", 0.10, resolved)):
                    if rng.random() < share:
                        breached = min(filter(None, (stopped, now)), default=now) - timedelta(minutes=1)
                        row[f"{clock}_breached_at"] = breached
                        events.append(
                            {
                                "org_id": org.id,
                                "ticket_id": i + 1,
                                "department_id": row["department_id"],
                                "key": f"breach:{clock}",
                                "kind": "breach",
                                "clock": clock,
                                "level": 0,
                                "due_at": breached,
                                "fired_at": breached,
                                "sweep_id": "bench",
                            }
                        )
                        if rng.random() < 0.5 and not escalated:
                            escalated, row["escalation_level"] = True, 1
                            events.append(
                                {
                                    "org_id": org.id,
                                    "ticket_id": i + 1,
                                    "department_id": row["department_id"],
                                    "key": "escalation:1",
                                    "kind": "escalation",
                                    "clock": clock,
                                    "level": 1,
                                    "due_at": breached,
                                    "fired_at": breached,
                                    "sweep_id": "bench",
                                }
                            )
                rows.append(row)
            db.session.execute(Ticket.__table__.insert(), rows)
            if events:
                db.session.execute(SlaEvent.__table__.insert(), events)
            db.session.commit()
        seconds = time.perf_counter() - started
        # Numbers were written directly: move the organization's counter past them, as
        # create_ticket would have, so tickets raised later (bench/api.py) get new numbers.
        db.session.execute(
            db.text("UPDATE organizations SET ticket_seq = :last WHERE id = :org"), {"last": 1000 + n, "org": org.id}
        )
        db.session.execute(db.text("ANALYZE TABLE tickets, sla_events" if url.startswith("mysql") else "ANALYZE"))
        db.session.commit()
    return seconds


def measure(url, runs):
    from sqlalchemy import event

    from autotrack.extensions import db
    from autotrack.services.org import dashboard

    app = make_app(url)
    figures = {}
    with app.app_context():
        org_id = db.session.scalar(db.text("SELECT id FROM organizations WHERE slug = 'bench'"))
        queries = {"n": 0}

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args):
            queries["n"] += 1

        dashboard.build(org_id, now=utcnow())  # warm the caches, as a dashboard someone keeps open would be
        db.session.rollback()
        timings = []
        for _ in range(runs):
            queries["n"] = 0
            started = time.perf_counter()
            board = dashboard.build(org_id, now=utcnow())
            timings.append(time.perf_counter() - started)
            db.session.rollback()
        figures["build"] = timings
        figures["queries"] = queries["n"]
        figures["open"] = board.open_total
        figures["compliance"] = board.compliance

    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": "admin@bench.example", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "bench login failed"
    client.get("/admin/")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/admin/")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    figures["page"] = timings
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets to seed")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temp dir")
    parser.add_argument("--reuse", action="store_true", help="measure the database seeded last time")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-dashboard-bench.db'}"
    seed_seconds = None if args.reuse else seed(url, args.n)
    figures = measure(url, args.runs)

    def ms(values):
        return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"

    first = figures["compliance"]["first_response"][30]
    rows = [
        ("database", "MariaDB" if url.startswith("mysql") else "SQLite"),
        ("tickets", f"{args.n:,}" if seed_seconds is not None else "(reused)"),
        ("seed time", f"{seed_seconds:.1f} s" if seed_seconds is not None else "-"),
        ("open tickets", f"{figures['open']:,}"),
        ("first response SLA, 30 days", f"{first['percent']}% of {first['met'] + first['breached']:,}"),
        ("queries per dashboard", str(figures["queries"])),
        (f"dashboard queries ({args.runs} runs)", ms(figures["build"])),
        (f"dashboard page, rendered ({args.runs} runs)", ms(figures["page"])),
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
