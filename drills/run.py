"""Reliability drills: the real processes (RQ workers, rq-scheduler, the app's jobs on MariaDB and
Redis, an SMTP sink counting Message-IDs) with one fault injected per drill. Prints a table:
drill, expectation, observed, pass/fail, duration. Everything runs on 127.0.0.1 and is stopped
at the end of each drill.

    .venv/bin/python drills/run.py --quick      # CI: a few minutes
    .venv/bin/python drills/run.py              # by hand: more tickets; the table goes in the README

The database is the truth these drills check: sla_events (one row per ticket and moment) and the
outbox (one row per email, each with its own Message-ID), against what the SMTP sink received.
"""
import argparse
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE = "autotrack_drill"
DATABASE_URL = f"mysql+pymysql://root@127.0.0.1:3306/{DATABASE}?charset=utf8mb4"
REDIS_URL = "redis://127.0.0.1:6379/14"  # the test suite uses 15
PASSWORD = "drill passphrase 1"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The processes of one drill; `stop()` ends every one of them, whatever happened."""

    def __init__(self, lease_seconds=300, smtp_delay=0.0):
        self.log = Path(tempfile.mkdtemp(prefix="autotrack-drill-")) / "smtp.log"
        self.log.touch()
        self.smtp_port = free_port()
        self.env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": str(self.smtp_port), "AUTOTRACK_LIVE_CHANNEL": "autotrack-drill",
                    "AUTOTRACK_OUTBOX_LEASE_SECONDS": str(lease_seconds), "AUTOTRACK_LOG_LEVEL": "WARNING",
                    "AUTOTRACK_EMBEDDED_JOBS": "false", "AUTOTRACK_AUTH_RATE_LIMIT": "100000 per minute",
                    "AUTOTRACK_API_TOKEN_PER_ADDRESS": "100000", "AUTOTRACK_API_TOKEN_PER_ACCOUNT": "100000"}
        self.sink = self._spawn([sys.executable, str(ROOT / "drills" / "smtp_sink.py"), "--port", str(self.smtp_port),
                                 "--log", str(self.log), "--delay", str(smtp_delay)])
        self.workers, self.schedulers = [], []

    def _spawn(self, command):
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def worker(self):
        self.workers.append(self._spawn([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"]))
        return self.workers[-1]

    def scheduler(self):
        self.schedulers.append(self._spawn([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "scheduler",
                                            "--interval", "1"]))
        return self.schedulers[-1]

    def web(self, workers=2, threads=8):
        """gunicorn with the production config on a free port; its base URL once it answers."""
        port = free_port()
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
            env={**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
                 "GUNICORN_THREADS": str(threads), "GUNICORN_RESERVED_THREADS": "2"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    return base
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def received(self):
        """Message-ID -> how many times the sink accepted it."""
        return collections.Counter(line.split("\t")[0] for line in self.log.read_text().splitlines() if line)

    def stop(self):
        for process in self.workers + self.schedulers + [self.sink]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.workers + self.schedulers + [self.sink]:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def children(pid):
    """The processes `pid` forked (an RQ worker's work-horse)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


# --- the database side ---------------------------------------------------------------------------

def make_app():
    import config
    from autotrack import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "REDIS_URL": None, "AUTOTRACK_EMBEDDED_JOBS": False,
                       "SQLALCHEMY_ENGINE_OPTIONS": config.sqlalchemy_engine_options(DATABASE_URL),
                       "AUTOTRACK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


def fresh_start(count):
    """An empty database and Redis, then one organization whose `count` P1 tickets were raised a
    day ago: every one has breached both clocks and is due all three escalation levels."""
    import pymysql
    from redis import Redis

    connection = pymysql.connect(host="127.0.0.1", user="root")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()
    Redis.from_url(REDIS_URL).flushdb()
    app = make_app()
    with app.app_context():
        from flask_migrate import upgrade

        from autotrack.extensions import db
        from autotrack.models import Priority, utcnow
        from autotrack.services import orgs, tickets

        upgrade()
        org = orgs.create_org("Drill Inc", "drill", admin_email="admin@drill.example", admin_password=PASSWORD)
        support = orgs.department_by_name(org, "Support")
        lead = orgs.create_user(org, "lead@drill.example", role_key="agent", password=PASSWORD, department=support,
                                lead=True)
        orgs.create_user(org, "manager@drill.example", role_key="manager", password=PASSWORD, department=support)
        requester = orgs.create_user(org, "staff@drill.example", role_key="employee", password=PASSWORD)
        p1 = db.session.query(Priority).filter_by(org_id=org.id, name="P1").one()
        raised = utcnow() - timedelta(days=1)
        for i in range(count):
            tickets.create_ticket(lead, title=f"Drill ticket {i}", requester=requester, priority=p1, now=raised)
        db.session.commit()


def database_state():
    """(escalation events per (ticket, level) > 1, tickets not at level 3, outbox rows by status,
    {Message-ID of each outbox row}, rows still leased into the future)."""
    app = make_app()
    with app.app_context():
        from sqlalchemy import func, select

        from autotrack.extensions import db
        from autotrack.models import OutboxEmail, SlaEvent, Ticket, utcnow

        doubled = db.session.execute(
            select(SlaEvent.ticket_id, SlaEvent.key).group_by(SlaEvent.ticket_id, SlaEvent.key)
            .having(func.count() > 1)).all()
        behind = db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.escalation_level < 3))
        statuses = dict(db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
        ids = set(db.session.scalars(select(OutboxEmail.message_id)))
        leased = db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
            OutboxEmail.status == "pending", OutboxEmail.leased_until > utcnow()))
        return len(doubled), behind, statuses, ids, leased


def wait_for_everything(stack, tickets, timeout):
    """Until every ticket reached level 3 and every email went out (or the time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doubled, behind, statuses, ids, _ = database_state()
        if not behind and len(ids) == tickets * 3 and not statuses.get("pending") \
                and ids <= set(stack.received()):
            return True
        time.sleep(2)
    return False


def verdict(stack, tickets, at_most=1):
    doubled, behind, statuses, ids, leased = database_state()
    received = stack.received()
    missing = len(ids - set(received))
    strangers = len(set(received) - ids)
    repeated = sum(1 for count in received.values() if count > 1)
    too_many = sum(1 for count in received.values() if count > at_most)
    observed = (f"{tickets} tickets, {len(ids)} emails; events doubled {doubled}; not escalated {behind}; "
                f"missing {missing}, repeated {repeated}, unknown {strangers}; leased {leased}; "
                f"status {dict(statuses)}")
    ok = (not doubled and not behind and len(ids) == tickets * 3 and not missing and not strangers
          and not too_many and not leased and set(statuses) == {"sent"})
    return ok, observed


# --- the drills ----------------------------------------------------------------------------------

def drill_overlap(tickets, timeout):
    """Two schedulers and three workers at once while every ticket breaches."""
    fresh_start(tickets)
    stack = Stack()
    try:
        for _ in range(3):
            stack.worker()
        for _ in range(2):
            stack.scheduler()
        wait_for_everything(stack, tickets, timeout)
        return verdict(stack, tickets)
    finally:
        stack.stop()


def drill_sigterm(tickets, timeout):
    """A random worker gets SIGTERM every 2 s (and is replaced) while the emails go out."""
    fresh_start(tickets)
    stack = Stack()
    stopped = 0
    try:
        for _ in range(3):
            stack.worker()
        stack.scheduler()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(2)
            running = [w for w in stack.workers if w.poll() is None]
            victim = random.choice(running)
            os.kill(victim.pid, signal.SIGTERM)  # RQ: a warm shutdown, the current job finishes
            stopped += 1
            stack.worker()
            if wait_for_everything(stack, tickets, 0.1):
                break
        wait_for_everything(stack, tickets, 60)
        ok, observed = verdict(stack, tickets)
        return ok, f"{stopped} workers stopped; " + observed
    finally:
        stack.stop()


def drill_kill9(tickets, timeout):
    """kill -9 of a worker and its work-horse mid-delivery (the SMTP sink answers slowly, so a
    message is in flight): every email is delivered; one in flight may arrive twice, with the
    same Message-ID; no row stays leased once its lease is over."""
    fresh_start(tickets)
    lease = 15
    stack = Stack(lease_seconds=lease, smtp_delay=0.05)
    try:
        for _ in range(2):
            stack.worker()
        stack.scheduler()
        deadline = time.monotonic() + timeout
        killed = 0
        while time.monotonic() < deadline and killed < 2:
            if sum(stack.received().values()) >= 10 * (killed + 1):
                for worker in [w for w in stack.workers if w.poll() is None]:
                    horses = children(worker.pid)
                    if horses:  # this one is delivering right now
                        for pid in horses + [worker.pid]:
                            os.kill(pid, signal.SIGKILL)
                        killed += 1
                        stack.worker()
                        break
            time.sleep(0.2)
        wait_for_everything(stack, tickets, timeout)
        ok, observed = verdict(stack, tickets, at_most=2)
        return ok and killed > 0, f"{killed} workers killed mid-delivery (lease {lease} s); " + observed
    finally:
        stack.stop()


def _call(base, method, path, token=None, body=None):
    """(status, seconds, JSON answer or None) of one API call."""
    request = urllib.request.Request(f"{base}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        status, answer = error.code, None
    except OSError:
        status, answer = 599, None  # no answer at all counts as a server failure
    return status, time.monotonic() - started, answer


def drill_load(tickets, timeout, clients=50, seconds=60):
    """`clients` API clients raise tickets and reply to them for `seconds` while the scheduler
    sweeps: no 5xx, and every write that was acknowledged is in the database afterwards."""
    fresh_start(tickets)
    stack = Stack()
    try:
        base = stack.web()
        for _ in range(2):
            stack.worker()
        stack.scheduler()
        tokens = [_call(base, "POST", "/auth/token", body={"email": "lead@drill.example", "password": PASSWORD})[2]
                  ["access_token"] for _ in range(5)]
        stop_at = time.monotonic() + seconds

        def client(number):
            token, calls, written = tokens[number % len(tokens)], [], []
            while time.monotonic() < stop_at:
                status, spent, answer = _call(base, "POST", "/tickets", token, {"title": f"Load {number}"})
                calls.append((status, spent))
                if status == 201:
                    written.append(("ticket", answer["number"]))
                    status, spent, answer = _call(base, "POST", f"/tickets/{answer['number']}/comments", token,
                                                  {"body": "Looking into it", "internal": False})
                    calls.append((status, spent))
                    if status == 201:
                        written.append(("comment", answer["id"]))
            return calls, written

        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(client, range(clients)))
        calls = [call for calls, _ in results for call in calls]
        written = [item for _, items in results for item in items]
        errors = sum(1 for status, _ in calls if status >= 500)
        refused = sum(1 for status, _ in calls if 400 <= status < 500)
        app = make_app()
        with app.app_context():
            from sqlalchemy import select

            from autotrack.extensions import db
            from autotrack.models import Comment, Ticket

            numbers = {ref for kind, ref in written if kind == "ticket"}
            comment_ids = {ref for kind, ref in written if kind == "comment"}
            lost_tickets = len(numbers - set(db.session.scalars(select(Ticket.number))))
            found_comments = set(db.session.scalars(select(Comment.id).where(Comment.id.in_(comment_ids or [0]))))
            lost_comments = len(comment_ids - found_comments)
        spent = sorted(s for _, s in calls)

        def pct(p):
            return spent[min(len(spent) - 1, int(len(spent) * p))] * 1000 if spent else 0

        observed = (f"{clients} clients, {len(calls)} calls in {seconds} s ({len(calls) / seconds:.0f}/s); 5xx {errors}, "
                    f"4xx {refused}; acknowledged {len(numbers)} tickets, {len(comment_ids)} replies, lost "
                    f"{lost_tickets + lost_comments}; p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms")
        return not errors and not lost_tickets and not lost_comments and len(calls) > 0, observed
    finally:
        stack.stop()


DRILLS = {
    "overlap": ("two schedulers, three workers: one escalation event per ticket and level, one email each",
                drill_overlap),
    "sigterm": ("SIGTERM to a random worker every 2 s: every email delivered once", drill_sigterm),
    "kill9": ("kill -9 mid-SMTP: every email delivered, at most twice with the same Message-ID, no row left leased",
              drill_kill9),
    "load": ("50 API clients raising tickets and replying for 60 s while sweeps run: no 5xx, no acknowledged write lost",
             drill_load),
}
QUICK = ("overlap", "sigterm", "kill9")  # the load drill is by hand: its figures need the machine to itself


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer tickets, for CI")
    parser.add_argument("drills", nargs="*", help=f"which drills (default all: {', '.join(DRILLS)}; "
                                                  f"with --quick: {', '.join(QUICK)})")
    args = parser.parse_args()
    args.drills = args.drills or list(QUICK if args.quick else DRILLS)
    tickets, timeout = (60, 150) if args.quick else (500, 600)
    rows, failed = [], False
    for name in args.drills:
        expectation, drill = DRILLS[name]
        started = time.monotonic()
        try:
            ok, observed = drill(tickets, timeout)
        except Exception as error:  # noqa: BLE001 - a drill that crashes is a failed drill
            ok, observed = False, f"crashed: {error.__class__.__name__}: {error}"
        rows.append((name, expectation, observed, "pass" if ok else "FAIL", f"{time.monotonic() - started:.0f} s"))
        failed |= not ok
        print(f"{name}: {'pass' if ok else 'FAIL'} — {observed}", flush=True)
    print()
    print("| drill | expectation | observed | result | duration |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
