"""Benchmark: the department lane of the newest-first queue on MariaDB, before and after the
(org_id, department_id, id, state) index of migration 0029.

Not a test: run by hand and read the table.

    .venv/bin/python bench/queue_lanes.py             # seeds 1,000,000 tickets into listE_bench
    .venv/bin/python bench/queue_lanes.py --reuse     # the tickets seeded last time
    .venv/bin/python bench/queue_lanes.py --database-url 'mysql+pymysql://root@127.0.0.1:3306/other?charset=utf8mb4'

The seed is set-based (one INSERT ... SELECT from MariaDB's sequence engine, not the ORM):
N tickets over 20 departments, the newest RECENT of them all in departments other than the
agent's, as a busy morning elsewhere leaves them. Then without the index (dropped) and the
department lanes' hint, as before; with the index (created again, timed); with both. For the
views "everything" and "all open": the page's statement as the API runs it (queues.page_rows)
under ANALYZE FORMAT=JSON, printing the index of the biggest read of `tickets`, the rows read
(r_rows x r_loops) and the statement's time; and the median of the page read through the service.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sla_sweep import make_app, print_table, reset_database  # noqa: E402

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1:3306/listE_bench?charset=utf8mb4"
DEPARTMENTS = 20
AGENT = "lane.agent@bench.example"
PASSWORD = "bench password 1234"
INDEX = "ix_tickets_department"


def seed(app, url, n, recent):
    """One organization, DEPARTMENTS teams, an agent of Team 0, and n tickets written in one
    statement: ticket k (1..n) in team k % DEPARTMENTS, except the newest `recent`, which skip
    Team 0; one in ten of the older ones open, the recent ones new."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from autotrack.extensions import db
    from autotrack.models import Priority, Status, utcnow
    from autotrack.services.org import orgs

    reset_database(url)
    with app.app_context():
        upgrade()
        org = orgs.create_org("Bench Corp", "bench", admin_email="admin@bench.example", admin_password=PASSWORD)
        departments = [orgs.create_department(org, f"Team {i}") for i in range(DEPARTMENTS)]
        requester = orgs.create_user(org, "requester@bench.example")
        orgs.create_user(org, AGENT, role_key="agent", password=PASSWORD, department=departments[0])
        db.session.commit()
        priority = db.session.scalar(select(Priority).where(Priority.org_id == org.id, Priority.name == "P3"))
        statuses = {s.category: s.id for s in db.session.scalars(select(Status).where(Status.org_id == org.id))}
        first_department = departments[0].id  # created in order: ids are consecutive
        assert [d.id for d in departments] == list(range(first_department, first_department + DEPARTMENTS))
        started = time.perf_counter()
        db.session.execute(
            text(
                f"""
                INSERT INTO tickets (id, org_id, number, title, description, requester_id, department_id,
                    priority_id, status_id, state, source, escalation_level, version, created_at, updated_at,
                    first_response_due_at, resolution_due_at)
                SELECT s.seq, :org, 1000 + s.seq, CONCAT('Bench ticket ', s.seq), '', :requester,
                    :dep0 + IF(s.seq > :old, 1 + s.seq % (:deps - 1), s.seq % :deps),
                    :priority,
                    IF(s.seq > :old, :new_status, IF((s.seq DIV :deps) % 10 = 0, :open_status, :closed_status)),
                    IF(s.seq > :old, 'new', IF((s.seq DIV :deps) % 10 = 0, 'open', 'closed')),
                    'web', 0, 1, :now - INTERVAL (:n - s.seq) SECOND, :now - INTERVAL (:n - s.seq) SECOND,
                    :now - INTERVAL (:n - s.seq) SECOND + INTERVAL 1 DAY,
                    :now - INTERVAL (:n - s.seq) SECOND + INTERVAL 5 DAY
                FROM seq_1_to_{n} s
                """
            ),
            {
                "org": org.id,
                "requester": requester.id,
                "dep0": first_department,
                "deps": DEPARTMENTS,
                "n": n,
                "old": n - recent,
                "priority": priority.id,
                "new_status": statuses["new"],
                "open_status": statuses["open"],
                "closed_status": statuses["closed"],
                "now": utcnow().replace(tzinfo=None),
            },
        )
        db.session.execute(
            text("UPDATE organizations SET ticket_seq = :last WHERE id = :org"), {"last": 1000 + n, "org": org.id}
        )
        db.session.commit()
        seconds = time.perf_counter() - started
        db.session.execute(text("ANALYZE TABLE tickets"))
        db.session.commit()
    return seconds


def _table_reads(plan, found):
    """Every read of `tickets` in an ANALYZE FORMAT=JSON plan: (key, r_rows x r_loops)."""
    if isinstance(plan, dict):
        table = plan.get("table")
        if isinstance(table, dict) and table.get("table_name") == "tickets":
            found.append(
                (table.get("key") or table.get("access_type"), table.get("r_rows", 0) * table.get("r_loops", 1))
            )
        for value in plan.values():
            _table_reads(value, found)
    elif isinstance(plan, list):
        for value in plan:
            _table_reads(value, found)
    return found


def measure(app, label, runs, hint=True):
    """Rows: (measure, value) for each view, the page statement under ANALYZE and through the
    service; hint=False: without the department lanes' IGNORE INDEX (PRIMARY), as before."""
    from sqlalchemy import event, select

    from autotrack.extensions import db
    from autotrack.models import User, utcnow
    from autotrack.services.tickets import queues

    if not hint:
        is_department_lane, queues._is_department_lane = queues._is_department_lane, lambda lane: False
        try:
            return measure(app, label, runs)
        finally:
            queues._is_department_lane = is_department_lane
    rows = []
    with app.app_context():
        agent = db.session.scalar(select(User).where(User.email == AGENT))
        for view in ("all", "open"):
            filters = queues.Filters.parse(agent, queues.FilterArgs(view=view))
            seen = []

            def capture(conn, cursor, statement, parameters, context, executemany, seen=seen):
                seen.append((statement, parameters))

            event.listen(db.engine, "before_cursor_execute", capture)
            items, _ = queues.page_rows(agent, filters, now=utcnow())
            event.remove(db.engine, "before_cursor_execute", capture)
            statement, parameters = seen[-1]  # the page's own statement (the ways to see come first)
            plan = json.loads(
                db.session.connection().exec_driver_sql("ANALYZE FORMAT=JSON " + statement, parameters).scalar()
            )
            reads = _table_reads(plan, [])
            lane = max(reads, key=lambda read: read[1])
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                queues.page_rows(agent, filters, now=utcnow())
                times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            rows += [
                (f"{label}, view={view}: page items", len(items)),
                (f"{label}, view={view}: biggest read of tickets (key: rows read)", f"{lane[0]}: {lane[1]:,.0f}"),
                (f"{label}, view={view}: rows read from tickets, all lanes", f"{sum(r for _, r in reads):,.0f}"),
                (
                    f"{label}, view={view}: ANALYZE statement time",
                    f"{plan['query_block'].get('r_total_time_ms', 0):.2f} ms",
                ),
                (f"{label}, view={view}: page_rows median of {runs}", f"{statistics.median(times):.2f} ms"),
            ]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--recent", type=int, default=100_000, help="newest tickets, none in the agent's department")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if not args.database_url.startswith("mysql"):
        sys.exit("the department lanes are MariaDB's: pass a mysql+pymysql:// URL")
    from sqlalchemy import text

    from autotrack.extensions import db

    app = make_app(args.database_url)
    results = []
    if not args.reuse:
        results.append(("seed (INSERT ... SELECT)", f"{seed(app, args.database_url, args.tickets, args.recent):.1f} s"))
    with app.app_context():
        indexes = {row[2] for row in db.session.execute(text("SHOW INDEX FROM tickets"))}
        if INDEX in indexes:
            db.session.execute(text(f"DROP INDEX {INDEX} ON tickets"))
            db.session.commit()
    results += measure(app, "before (no index, no hint)", args.runs, hint=False)
    with app.app_context():
        started = time.perf_counter()
        db.session.execute(text(f"CREATE INDEX {INDEX} ON tickets (org_id, department_id, id, state)"))
        db.session.commit()
        results.append(("CREATE INDEX (the migration's work)", f"{time.perf_counter() - started:.1f} s"))
        db.session.execute(text("ANALYZE TABLE tickets"))
        db.session.commit()
    results += measure(app, "index, no hint", args.runs, hint=False)
    results += measure(app, "after (index and hint)", args.runs)
    print(f"{args.tickets:,} tickets, the newest {args.recent:,} in other departments; agent of Team 0")
    print_table(results)


if __name__ == "__main__":
    main()
