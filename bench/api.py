"""Benchmark: the JSON API under gunicorn (4 workers, gthread as in production) with a local load
generator.

Not a test: run by hand and read the table.

    .venv/bin/python bench/api.py                   # SQLite, seeds 1,000,000 tickets first
    .venv/bin/python bench/api.py --reuse           # the database seeded last time
    .venv/bin/python bench/api.py --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_apibench?charset=utf8mb4'

Seeds the dashboard benchmark's history (bench/dashboard.py), starts gunicorn on 127.0.0.1,
takes an agent's token, then for --seconds each: CLIENTS keep-alive connections POST new
tickets as fast as answers come (tickets created per second, latency), then GET the first page
of /tickets and a page ten pages deep (latency). Targets (2-core machine): >= 300 tickets/s
created on MariaDB, GET /tickets p95 < 50 ms at 1M tickets. The load generator shares the two
cores with the server, so the figures are a floor.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dashboard  # noqa: E402  (bench/dashboard.py: the seed)
import queues as queue_bench  # noqa: E402  (bench/queues.py: the agent)
from sla_sweep import print_table  # noqa: E402

API_AGENT = "api.agent@bench.example"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url, port, workers):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AUTOTRACK_EMBEDDED_JOBS": "0",
        "AUTOTRACK_LOG_LEVEL": "WARNING",
        "AUTOTRACK_API_TOKEN_PER_ADDRESS": "100000",
        "AUTOTRACK_API_TOKEN_PER_ACCOUNT": "100000",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def request(connection, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    payload = json.dumps(body) if body is not None else None
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        connection.close()  # the server ended an idle keep-alive connection: open a new one
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
    return response.status, response.read()


def load(port, token, clients, seconds, make_request):
    """Run `clients` threads for `seconds`; each calls make_request(i) -> (method, path, body)."""
    deadline = time.perf_counter() + seconds
    results = []  # (status, seconds)
    lock = threading.Lock()

    def worker(n):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], 0
        while time.perf_counter() < deadline:
            method, path, body = make_request(n * 1_000_000 + i)
            started = time.perf_counter()
            status, _ = request(connection, method, path, token, body)
            mine.append((status, time.perf_counter() - started))
            i += 1
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def percentiles(results):
    times = sorted(seconds * 1000 for _, seconds in results)
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets to seed")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="use the database seeded last time")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-dashboard-bench.db'}"
    if not args.reuse:
        dashboard.seed(url, args.n)
    with dashboard.make_app(url).app_context():  # a reused database may predate the newest migrations
        from flask_migrate import upgrade

        upgrade()
    app = queue_bench.add_agent(url)
    with app.app_context():
        from sqlalchemy import select

        from autotrack.extensions import db
        from autotrack.models import Department, Organization
        from autotrack.services.org import orgs
        from autotrack.services.people import accounts

        # Its own agent, so the tickets it raises do not change what bench/queues.py measures.
        if accounts.user_by_email(API_AGENT) is None:
            org = db.session.scalar(select(Organization).where(Organization.slug == "bench"))
            team = db.session.scalar(select(Department).where(Department.org_id == org.id, Department.name == "Team 0"))
            orgs.create_user(org, API_AGENT, role_key="agent", password=dashboard.PASSWORD, department=team)
            db.session.commit()
    port = free_port()
    server = start_gunicorn(url, port, args.workers)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        status, body = request(
            connection, "POST", "/api/v1/auth/token", None, {"email": API_AGENT, "password": dashboard.PASSWORD}
        )
        assert status == 200, body
        token = json.loads(body)["access_token"]

        created, create_seconds = load(
            port,
            token,
            args.clients,
            args.seconds,
            lambda i: ("POST", "/api/v1/tickets", {"title": f"Load ticket {i}"}),
        )
        # The floor of any API call here: Flask, the token check (one query) and a serializer.
        floor, _ = load(port, token, args.clients, args.seconds / 2, lambda i: ("GET", "/api/v1/me", None))
        alone, _ = load(port, token, 1, args.seconds / 2, lambda i: ("GET", "/api/v1/tickets", None))
        first, _ = load(port, token, args.clients, args.seconds / 2, lambda i: ("GET", "/api/v1/tickets", None))
        cursor = ""
        for _ in range(10):
            status, body = request(connection, "GET", f"/api/v1/tickets?cursor={cursor}", token)
            cursor = json.loads(body)["next_cursor"] or cursor
        deep, _ = load(
            port, token, args.clients, args.seconds / 2, lambda i: ("GET", f"/api/v1/tickets?cursor={cursor}", None)
        )
    finally:
        server.terminate()
        server.wait()

    ok = [r for r in created if r[0] == 201]
    errors = len(created) - len(ok) + sum(1 for r in floor + alone + first + deep if r[0] != 200)
    rows = [
        ("database", "MariaDB" if url.startswith("mysql") else "SQLite"),
        ("server", f"gunicorn, {args.workers} workers x 4 threads; {args.clients} keep-alive clients, same machine"),
        ("tickets created", f"{len(ok):,} in {create_seconds:.1f} s = {len(ok) / create_seconds:.0f} tickets/s"),
        ("POST /tickets latency", "p50 {:.0f} ms, p95 {:.0f} ms".format(*percentiles(ok))),
        (
            f"GET /me (the floor), {args.clients} clients",
            "p50 {:.0f} ms, p95 {:.0f} ms, {:.0f} requests/s".format(
                *percentiles(floor), len(floor) / (args.seconds / 2)
            ),
        ),
        ("GET /tickets, first page, 1 client", "p50 {:.0f} ms, p95 {:.0f} ms".format(*percentiles(alone))),
        (
            f"GET /tickets, first page, {args.clients} clients",
            "p50 {:.0f} ms, p95 {:.0f} ms, {:.0f} requests/s".format(
                *percentiles(first), len(first) / (args.seconds / 2)
            ),
        ),
        (
            f"GET /tickets, page 11, {args.clients} clients",
            "p50 {:.0f} ms, p95 {:.0f} ms, {:.0f} requests/s".format(
                *percentiles(deep), len(deep) / (args.seconds / 2)
            ),
        ),
        ("non-2xx answers", str(errors)),
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
