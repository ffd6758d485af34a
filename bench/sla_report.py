"""Benchmark: the SLA compliance report over a million tickets.

Not a test: run by hand and read the table. It reuses the database bench/sla_sweep.py seeded
(1,000,000 open tickets, 990,000 of them first-responded in the last hour, 10,000 breaches once
swept), brings it to the current schema and times the report as a manager's page asks for it.

    .venv/bin/python bench/sla_sweep.py            # seed (and sweep) first
    .venv/bin/python bench/sla_report.py

No target yet: the figures say what a period in which a million clocks stopped costs (the seed answers
every first response within the hour before NOW, an extreme). The lever, if needed: covering indexes
with department_id and assignee_id on the stop columns.
"""

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sla_sweep import NOW, make_app, print_table  # noqa: E402  (same database and output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-bench.db'}")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = make_app(args.database_url)
    with app.app_context():
        from flask_migrate import upgrade
        from sqlalchemy import func, select

        from autotrack.extensions import db
        from autotrack.models import Organization, Ticket
        from autotrack.services.sla import reports as sla_reports

        upgrade()
        org = db.session.scalar(select(Organization).where(Organization.slug == "bench"))
        tickets = db.session.scalar(select(func.count()).select_from(Ticket))
        until = NOW.date()
        rows = [
            ("database", "MariaDB" if args.database_url.startswith("mysql") else "SQLite"),
            ("tickets", f"{tickets:,}"),
        ]
        for by in ("department", "agent", "priority"):
            for days in (7, 30):
                timings = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    report = sla_reports.build(org.id, None, until - timedelta(days=days - 1), until, by)
                    timings.append(time.perf_counter() - started)
                counted = sum(c.total for c in report.totals.values())
                rows.append(
                    (
                        f"by {by}, {days} days",
                        f"{min(timings):.2f} s best of {args.runs} ({', '.join(f'{t:.2f}' for t in timings)}); "
                        f"{len(report.rows)} groups, {counted:,} clocks counted",
                    )
                )
    print_table(rows)


if __name__ == "__main__":
    main()
