"""Benchmark: live notifications under gunicorn (gunicorn.conf.py) with many open pages.

Not a test: run by hand and read the table. Needs Redis (REDIS_URL, default db 14).

    .venv/bin/python bench/streams.py                      # 200 agents' pages, SQLite
    .venv/bin/python bench/streams.py --pages 400 --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_streams?charset=utf8mb4'

One department of --pages agents, each with one page streaming. An employee raises --tickets
tickets one after another; each notifies every agent. Measured: how long until each ticket's
notification reached every page (the fan-out), page latency with every stream open against none,
and the web processes' memory. The load generator (one thread per page) shares the two cores.
"""

import argparse
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

from sla_sweep import make_app, print_table, reset_database  # noqa: E402  (same set-up and output)

PASSWORD = "bench-pass-1"


def seed(url, pages):
    from flask_migrate import upgrade

    from autotrack.extensions import db
    from autotrack.services.org import orgs

    reset_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        org = orgs.create_org("Stream Corp", "stream", admin_email="admin@stream.example", admin_password=PASSWORD)
        desk = orgs.department_by_name(org, "Support")  # where uncategorized tickets land
        agents = [
            orgs.create_user(
                org, f"agent{i}@stream.example", role_key="agent", password=PASSWORD, department=desk
            ).email
            for i in range(pages)
        ]
        employee = orgs.create_user(org, "employee@stream.example", role_key="employee", password=PASSWORD)
        db.session.commit()
        return agents, employee.email


def start_gunicorn(url, redis_url, port, pages, workers):
    # Connections do not spread evenly over the workers: 25% headroom, plus the 8 kept for pages.
    threads = pages * 5 // (4 * workers) + 8
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
        "AUTOTRACK_EMBEDDED_JOBS": "0",
        "AUTOTRACK_LOG_LEVEL": "WARNING",
        "AUTOTRACK_LIVE_CHANNEL": f"autotrack-bench:{port}",
        "AUTOTRACK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    env.pop("AUTOTRACK_STREAM_SLOTS", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    from tests.helpers import Site

    site = Site(port)
    for _ in range(150):
        try:
            connection = site.connection(timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server, site, threads
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_latency(site, cookie, count):
    times = []
    connection = site.connection()
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", "/agent/", headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def rss_mb(pid):
    """Resident memory of gunicorn's master and workers, in MB."""
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "rss="], capture_output=True, text=True).stdout.split()
    own = subprocess.run(["ps", "-p", str(pid), "-o", "rss="], capture_output=True, text=True).stdout.split()
    return sum(int(kb) for kb in out + own) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url", default=f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-streams-bench.db'}"
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()

    from tests.helpers import EventStream

    agents, employee = seed(args.database_url, args.pages)
    port = free_port()
    server, site, threads = start_gunicorn(args.database_url, args.redis_url, port, args.pages, args.workers)
    streams = []
    try:
        cookies = [site.sign_in(email, PASSWORD) for email in agents]
        quiet = page_latency(site, cookies[0], 50)
        streams = [EventStream(site, "/notifications/stream?after=0", cookie) for cookie in cookies]
        streams = [s for s in streams if s.next_event(30, kind="unread") is not None]  # the rest: retry later
        opened = len(streams)
        loaded = page_latency(site, cookies[0], 50)
        employee_cookie = site.sign_in(employee, PASSWORD)

        fan_out, missing = [], 0
        for i in range(args.tickets):
            raised = time.perf_counter()
            response = site.post_form("/portal/tickets/new", employee_cookie, {"title": f"Bench ticket {i}"})
            assert response.status == 302, response.status
            arrivals = []
            lock = threading.Lock()

            def wait(stream, lock=lock, arrivals=arrivals, raised=raised):  # this ticket's, bound now
                event = stream.next_event(30)
                with lock:
                    arrivals.append(time.perf_counter() - raised if event else None)

            waiters = [threading.Thread(target=wait, args=(s,)) for s in streams]
            for waiter in waiters:
                waiter.start()
            for waiter in waiters:
                waiter.join()
            missing += sum(1 for a in arrivals if a is None)
            fan_out.append(max(a for a in arrivals if a is not None) * 1000)
        memory = rss_mb(server.pid)
    finally:
        for stream in streams:
            stream.close()
        server.terminate()
        server.wait()

    fan_out.sort()
    rows = [
        ("database", "MariaDB" if args.database_url.startswith("mysql") else "SQLite"),
        ("server", f"gunicorn.conf.py: {args.workers} workers x {threads} threads, Redis pub/sub"),
        ("pages streaming", f"{opened} of {args.pages}"),
        (
            "new ticket -> on every page (raise included)",
            f"median {statistics.median(fan_out):.0f} ms, worst {fan_out[-1]:.0f} ms over {args.tickets} tickets",
        ),
        ("notifications missing on a streaming page", str(missing)),
        ("GET /agent/ with no stream open", "p50 {:.0f} ms, p95 {:.0f} ms".format(*quiet)),
        (f"GET /agent/ with {opened} streams open", "p50 {:.0f} ms, p95 {:.0f} ms".format(*loaded)),
        ("gunicorn memory (master + workers)", f"{memory:.0f} MB"),
    ]
    print_table(rows)


if __name__ == "__main__":
    main()
