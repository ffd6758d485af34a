"""Benchmark: AutoTrack's JSON API beside the floor app (bench/floor_app.py), the same work with
the least code on the same stack, in one run on the same database.

Not a test: run by hand and read the table. Needs wrk (`apt-get install wrk`): a compiled load
generator, so the client does not eat the cores it measures.

    .venv/bin/python bench/api.py                   # SQLite, seeds 1,000,000 tickets first
    .venv/bin/python bench/api.py --reuse           # the database seeded last time
    .venv/bin/python bench/api.py --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_apibench?charset=utf8mb4'
    .venv/bin/python bench/api.py --reuse --database-url 'mysql+mysqldb://root@127.0.0.1:3306/autotrack_apibench?charset=utf8mb4'

Seeds the dashboard benchmark's history (bench/dashboard.py), adds an API agent (Team 0),
starts AutoTrack and the floor app under gunicorn with the same settings (4 workers x 4 threads,
gthread, as in production; the floor app uses the same URL, so the same driver), takes the
agent's token from AutoTrack (the floor app accepts it) and, per endpoint (GET /me, GET
/tickets?view=open first page, POST /tickets), runs wrk with --clients keep-alive connections
for --duration seconds, AutoTrack and floor alternating for --rounds rounds. Prints the median
of the rounds, the ratios AutoTrack / floor (req/s, p95), the answers that were not 2xx, and the
SQL statements per request of each app (counted in-process, with a Flask test client, after one
warm-up request). Targets (issue 24): /me >= 70% of the floor's req/s, POST >= 60% on MariaDB,
GET /tickets p95 <= 1.5x the floor's; statements /me 1, list <= 3, create <= 6. Both servers
share the two cores with wrk: compare within a run, never across runs.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dashboard  # noqa: E402  (bench/dashboard.py: the seed)
from sla_sweep import make_app  # noqa: E402

API_AGENT = "api.agent@bench.example"
WRK = "/usr/bin/wrk"
SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-api-secret-key-shared-by-both-apps"
ENDPOINTS = (  # (label, method, path, wrk script)
    ("GET /me", "GET", "/api/v1/me", "api.lua"),
    ("GET /tickets (first page)", "GET", "/api/v1/tickets?view=open", "api.lua"),
    ("POST /tickets", "POST", "/api/v1/tickets", "post_ticket.lua"),
)
APPS = {"AutoTrack": (ROOT, "wsgi:app"), "floor": (ROOT / "bench", "floor_app:app")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url, workers, where, target):
    """gunicorn serving `target` from `where` on a free port; (process, port) once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "AUTOTRACK_EMBEDDED_JOBS": "0",
        "AUTOTRACK_LOG_LEVEL": "WARNING",
        "AUTOTRACK_API_TOKEN_PER_ADDRESS": "100000",
        "AUTOTRACK_API_TOKEN_PER_ACCOUNT": "100000",
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "--workers", str(workers), "--worker-class", "gthread", "--threads", "4"]
        + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--access-logfile", "/dev/null", target],
        cwd=where,
        env=env,
    )
    for _ in range(150):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/me")  # 401 without a token: up
            if connection.getresponse().status < 500:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"gunicorn did not start {target}")


def api_token(port):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"email": API_AGENT, "password": dashboard.PASSWORD})
    connection.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 200, answer
    return json.loads(answer)["access_token"]


def wrk(port, path, script, token, clients, seconds):
    """One wrk run: {rps, p50, p95 (ms), requests, non2xx, socket_errors}."""
    out = subprocess.run(
        [WRK, "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
        + ["-s", str(ROOT / "bench" / "wrk" / script), f"http://127.0.0.1:{port}{path}"],
        env={**os.environ, "AUTOTRACK_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    requests, duration_us, p50, p95, non2xx, socket_errors = map(int, line.split()[1:])
    return {
        "rps": requests / (duration_us / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "requests": requests,
        "non2xx": non2xx,
        "socket_errors": socket_errors,
    }


def count_statements(app, token):
    """SQL statements per request of `app` per endpoint: what the driver executes (cursor
    executes; the driver's own BEGIN/COMMIT are not statements), after one warm-up request."""
    from sqlalchemy import event

    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    executed = []

    def count(conn, cursor, statement, parameters, context, executemany):
        executed.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    client, counts = app.test_client(), {}
    headers = {"Authorization": f"Bearer {token}"}
    body = {"title": "Counted ticket", "description": "Raised by bench/api.py"}
    try:
        for label, method, path, _ in ENDPOINTS:
            for _ in range(2):  # the second request is counted: in-process caches are warm
                executed.clear()
                response = client.open(path, method=method, headers=headers, json=body if method == "POST" else None)
                assert response.status_code < 300, (label, response.status_code, response.get_data(as_text=True))
            counts[label] = len(executed)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts


def setup(url, n, reuse):
    """Seed (or reuse) the database, migrate it and add the API agent; AutoTrack's app, in-process."""
    if not reuse:
        dashboard.seed(url, n)
    app = make_app(url)
    app.config["SECRET_KEY"] = SECRET_KEY
    with app.app_context():  # a reused database may predate the newest migrations
        from flask_migrate import upgrade
        from sqlalchemy import select

        from autotrack.extensions import db
        from autotrack.models import Department, Organization
        from autotrack.services.org import orgs
        from autotrack.services.people import accounts

        upgrade()
        # Its own agent, so the tickets it raises do not change what bench/queues.py measures.
        if accounts.user_by_email(API_AGENT) is None:
            org = db.session.scalar(select(Organization).where(Organization.slug == "bench"))
            team = db.session.scalar(select(Department).where(Department.org_id == org.id, Department.name == "Team 0"))
            orgs.create_user(org, API_AGENT, role_key="agent", password=dashboard.PASSWORD, department=team)
            db.session.commit()
    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets to seed")
    parser.add_argument("--database-url", default=None, help="mysql+pymysql://… or mysql+mysqldb://…; SQLite if unset")
    parser.add_argument("--reuse", action="store_true", help="use the database seeded last time")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8, help="wrk keep-alive connections")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="AutoTrack/floor alternations per endpoint")
    args = parser.parse_args()
    if not Path(WRK).exists():
        sys.exit("wrk is missing: apt-get install wrk")
    url = args.database_url or f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-dashboard-bench.db'}"
    autotrack_app = setup(url, args.n, args.reuse)

    os.environ.update(DATABASE_URL=url, SECRET_KEY=SECRET_KEY)  # what floor_app reads on import
    import floor_app

    servers = {name: start_gunicorn(url, args.workers, where, target) for name, (where, target) in APPS.items()}
    results = {(label, name): [] for label, *_ in ENDPOINTS for name in APPS}
    try:
        token = api_token(servers["AutoTrack"][1])
        statements = {
            "AutoTrack": count_statements(autotrack_app, token),
            "floor": count_statements(floor_app.app, token),
        }
        for label, _, path, script in ENDPOINTS:
            order = list(APPS)
            for name in order:  # warm-up: imports, connections, caches of every worker
                wrk(servers[name][1], path, script, token, args.clients, min(2, args.duration))
            for round_ in range(args.rounds):
                for name in order if round_ % 2 == 0 else order[::-1]:  # alternate who goes first
                    run = wrk(servers[name][1], path, script, token, args.clients, args.duration)
                    results[label, name].append(run)
                    print(
                        f"  {label:26} {name:9} round {round_ + 1}: {run['rps']:7.1f} req/s, "
                        f"p50 {run['p50']:6.1f} ms, p95 {run['p95']:6.1f} ms, non-2xx {run['non2xx']}",
                        file=sys.stderr,
                    )
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait()

    def median(label, name, key):
        return statistics.median(run[key] for run in results[label, name])

    database = "MariaDB, " + url.split("://")[0].split("+")[-1] if url.startswith("mysql") else "SQLite"
    print(
        f"\n{database}; gunicorn {args.workers} workers x 4 threads (gthread) each; wrk {args.clients} keep-alive "
        f"connections, {args.duration} s per run; median of {args.rounds} alternating rounds\n"
    )
    print(
        "| endpoint | AutoTrack req/s | floor req/s | req/s AutoTrack/floor | AutoTrack p50 / p95 ms "
        "| floor p50 / p95 ms | p95 AutoTrack/floor | non-2xx AutoTrack / floor | statements AutoTrack / floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, *_ in ENDPOINTS:
        at_rps, floor_rps = median(label, "AutoTrack", "rps"), median(label, "floor", "rps")
        at_p95, floor_p95 = median(label, "AutoTrack", "p95"), median(label, "floor", "p95")
        bad = [sum(r["non2xx"] + r["socket_errors"] for r in results[label, name]) for name in APPS]
        print(
            f"| {label} | {at_rps:,.0f} | {floor_rps:,.0f} | {at_rps / floor_rps:.2f} "
            f"| {median(label, 'AutoTrack', 'p50'):.1f} / {at_p95:.1f} "
            f"| {median(label, 'floor', 'p50'):.1f} / {floor_p95:.1f} | {at_p95 / floor_p95:.2f} "
            f"| {bad[0]} / {bad[1]} | {statements['AutoTrack'][label]} / {statements['floor'][label]} |"
        )


if __name__ == "__main__":
    main()
