"""Benchmark: the agent's queue pages and a ticket page over N tickets (default 1,000,000).

Not a test: run by hand and read the table.

    .venv/bin/python bench/queues.py                      # seeds like bench/dashboard.py, on SQLite
    .venv/bin/python bench/queues.py --reuse              # the database seeded last time
    .venv/bin/python bench/queues.py --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_bench?charset=utf8mb4'

Two years of tickets over 20 departments (bench/dashboard.py's history); an agent of one
department opens each page --runs times through the app (routing, queries, rendering).
Target (2-core machine): p95 < 50 ms per page.
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dashboard  # noqa: E402  (the same seeded history)
from sla_sweep import make_app, print_table  # noqa: E402

AGENT = "queue.agent@bench.example"


def add_agent(url):
    from sqlalchemy import select

    from autotrack.extensions import db
    from autotrack.models import Department, Organization
    from autotrack.services.org import orgs
    from autotrack.services.people import accounts

    app = make_app(url)
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.slug == "bench"))
        if accounts.user_by_email(AGENT) is None:
            team = db.session.scalar(select(Department).where(Department.org_id == org.id, Department.name == "Team 0"))
            orgs.create_user(org, AGENT, role_key="agent", password=dashboard.PASSWORD, department=team)
            db.session.commit()
    return app


def measure(app, runs):
    from sqlalchemy import select

    from autotrack.extensions import db
    from autotrack.models import Organization, Priority

    with app.app_context():
        p1_id = db.session.scalar(
            select(Priority.id)
            .join(Organization, Organization.id == Priority.org_id)
            .where(Organization.slug == "bench", Priority.name == "P1")
        )
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert (
        client.post("/login", data={"email": AGENT, "password": dashboard.PASSWORD, "csrf_token": token}).status_code
        == 302
    )
    first = client.get("/agent/?view=all").get_data(as_text=True)
    reference = re.search(r'href="/agent/tickets/([A-Z]+-\d+)"', first).group(1)
    cursor, depth = "", 0
    for depth in range(1, 11):  # noqa: B007 - walk up to ten pages down; depth names the page reached
        page = client.get("/agent/?view=all" + (f"&cursor={cursor}" if cursor else "")).get_data(as_text=True)
        found = re.search(r"cursor=([^&\"]+)", page)
        if not found:
            break
        cursor = found.group(1)
    pages = {
        "queue: all open, first page": "/agent/?view=open",
        f"queue: everything, page {depth + 1}": f"/agent/?view=all&cursor={cursor}",
        "queue: at risk (by deadline)": "/agent/?view=at_risk",
        "queue: open, P1, breached": f"/agent/?view=open&priority={p1_id}&sla=breached",
        "queue: search words": "/agent/?view=all&q=ticket+4242",
        "queue: search number": f"/agent/?view=all&q={reference}",
        "ticket page": f"/agent/tickets/{reference}",
    }
    results = {}
    for name, path in pages.items():
        assert client.get(path).status_code == 200, path  # warm
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings.sort()
        results[name] = (statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="measure the database seeded last time")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-dashboard-bench.db'}"
    if not args.reuse:
        dashboard.seed(url, args.n)
    app = add_agent(url)
    results = measure(app, args.runs)
    rows = [("database", "MariaDB" if url.startswith("mysql") else "SQLite"), ("runs per page", str(args.runs))]
    rows += [(name, f"p50 {p50:.0f} ms, p95 {p95:.0f} ms") for name, (p50, p95) in results.items()]
    print_table(rows)


if __name__ == "__main__":
    main()
