"""Reliability drills: the real processes (RQ workers, rq-scheduler, the app's jobs on MariaDB and
Redis, an SMTP sink counting Message-IDs) with one fault injected per drill. Prints a table:
drill, expectation, observed, pass/fail, duration. Everything runs on 127.0.0.1 and is stopped
at the end of each drill.

    .venv/bin/python drills/run.py --quick      # CI: a few minutes
    .venv/bin/python drills/run.py              # by hand: more tickets; the table goes in docs/reliability.md

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
import urllib.parse
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

    def __init__(self, lease_seconds=300, smtp_delay=0.0, sink=True, **settings):
        folder = Path(tempfile.mkdtemp(prefix="autotrack-drill-"))
        self.log, self.mode_file = folder / "smtp.log", folder / "smtp.mode"
        self.log.touch()
        self.smtp_port, self.smtp_delay = free_port(), smtp_delay
        self.env = {
            **os.environ,
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.smtp_port),
            "AUTOTRACK_LIVE_CHANNEL": "autotrack-drill",
            "AUTOTRACK_OUTBOX_LEASE_SECONDS": str(lease_seconds),
            "AUTOTRACK_LOG_LEVEL": "WARNING",
            "AUTOTRACK_EMBEDDED_JOBS": "false",
            "AUTOTRACK_AUTH_RATE_LIMIT": "100000 per minute",
            "AUTOTRACK_API_TOKEN_PER_ADDRESS": "100000",
            "AUTOTRACK_API_TOKEN_PER_ACCOUNT": "100000",
            **{key: str(value) for key, value in settings.items()},
        }
        self.workers, self.schedulers, self.sink = [], [], None
        if sink:
            self.start_sink()

    def _spawn(self, command, name=None):
        """A process of the drill; its output goes to a file of its own in the drill's folder."""
        self.spawned = getattr(self, "spawned", 0) + 1
        output = open(self.log.parent / f"{self.spawned:02d}-{name or Path(command[1]).stem}.log", "wb")
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_sink(self, mode="ok", auth=None):
        """The SMTP sink on this stack's port, answering as `mode` says (see smtp_sink.py)."""
        self.set_sink_mode(mode)
        self.sink = self._spawn(
            [
                sys.executable,
                str(ROOT / "drills" / "smtp_sink.py"),
                "--port",
                str(self.smtp_port),
                "--log",
                str(self.log),
                "--delay",
                str(self.smtp_delay),
                "--mode-file",
                str(self.mode_file),
                *(["--auth", auth] if auth else []),
            ]
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.smtp_port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("the SMTP sink did not start")

    def output_lines(self, text):
        """How many lines of the drill's processes' output contain `text`."""
        return sum(
            line.count(text)
            for path in self.log.parent.glob("*-*.log")
            for line in path.read_text(errors="replace").splitlines()
        )

    def set_sink_mode(self, mode):
        self.mode_file.write_text(mode)

    @staticmethod
    def _flask(faults):
        """The command line of `flask --app wsgi`, through drills/faults.py when faults are given."""
        if faults:
            return [sys.executable, str(ROOT / "drills" / "faults.py"), *faults, "--"]
        return [sys.executable, "-m", "flask", "--app", "wsgi"]

    def worker(self, faults=()):
        self.workers.append(self._spawn([*self._flask(faults), "jobs", "worker"], "worker"))
        return self.workers[-1]

    def scheduler(self, faults=()):
        self.schedulers.append(self._spawn([*self._flask(faults), "jobs", "scheduler", "--interval", "1"], "scheduler"))
        return self.schedulers[-1]

    def web(self, workers=2, threads=8):
        """gunicorn with the production config on a free port; its base URL once it answers."""
        port = free_port()
        self.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env={
                    **self.env,
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    "GUNICORN_WORKERS": str(workers),
                    "GUNICORN_THREADS": str(threads),
                    "GUNICORN_RESERVED_THREADS": "2",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
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
        processes = [p for p in self.workers + self.schedulers + [self.sink] if p is not None]
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
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

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
            "REDIS_URL": None,
            "AUTOTRACK_EMBEDDED_JOBS": False,
            "SQLALCHEMY_ENGINE_OPTIONS": config.sqlalchemy_engine_options(DATABASE_URL),
            "AUTOTRACK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def fresh_start(count, raised=None):
    """An empty database and Redis, then one organization whose `count` P1 tickets were raised a
    day ago: every one has breached both clocks and is due all three escalation levels.
    `raised(i, now)` gives ticket i another raising time. Returns {ticket id: raised at}."""
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
        from autotrack.services import tickets
        from autotrack.services.org import orgs

        upgrade()
        org = orgs.create_org("Drill Inc", "drill", admin_email="admin@drill.example", admin_password=PASSWORD)
        support = orgs.department_by_name(org, "Support")
        lead = orgs.create_user(
            org, "lead@drill.example", role_key="agent", password=PASSWORD, department=support, lead=True
        )
        orgs.create_user(org, "manager@drill.example", role_key="manager", password=PASSWORD, department=support)
        requester = orgs.create_user(org, "staff@drill.example", role_key="employee", password=PASSWORD)
        p1 = db.session.query(Priority).filter_by(org_id=org.id, name="P1").one()
        now, created = utcnow(), {}
        for i in range(count):
            at = raised(i, now) if raised else now - timedelta(days=1)
            ticket = tickets.create_ticket(lead, title=f"Drill ticket {i}", requester=requester, priority=p1, now=at)
            created[ticket.id] = at
        db.session.commit()
        return created


def database_state(level=3):
    """(escalation events per (ticket, level) > 1, tickets not at `level`, outbox rows by status,
    {Message-ID of each outbox row}, rows still leased into the future)."""
    app = make_app()
    with app.app_context():
        from sqlalchemy import func, select

        from autotrack.extensions import db
        from autotrack.models import OutboxEmail, SlaEvent, Ticket, utcnow

        doubled = db.session.execute(
            select(SlaEvent.ticket_id, SlaEvent.key).group_by(SlaEvent.ticket_id, SlaEvent.key).having(func.count() > 1)
        ).all()
        behind = db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.escalation_level < level))
        statuses = dict(db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
        ids = set(db.session.scalars(select(OutboxEmail.message_id)))
        leased = db.session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.status == "pending", OutboxEmail.leased_until > utcnow())
        )
        db.engine.dispose()
        return len(doubled), behind, statuses, ids, leased


def wait_for_everything(stack, tickets, timeout, emails_per_ticket=3, level=3):
    """Until every ticket reached `level` and every email went out (or the time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            doubled, behind, statuses, ids, _ = database_state(level)
        except Exception:  # noqa: BLE001 - the database may be restarting in this drill
            time.sleep(2)
            continue
        if (
            not behind
            and len(ids) == tickets * emails_per_ticket
            and not statuses.get("pending")
            and ids <= set(stack.received())
        ):
            return True
        time.sleep(2)
    return False


def verdict(stack, tickets, at_most=1, emails_per_ticket=3, level=3):
    doubled, behind, statuses, ids, leased = database_state(level)
    received = stack.received()
    missing = len(ids - set(received))
    strangers = len(set(received) - ids)
    repeated = sum(1 for count in received.values() if count > 1)
    too_many = sum(1 for count in received.values() if count > at_most)
    observed = (
        f"{tickets} tickets, {len(ids)} emails; events doubled {doubled}; not escalated {behind}; "
        f"missing {missing}, repeated {repeated}, unknown {strangers}; leased {leased}; "
        f"status {dict(statuses)}"
    )
    ok = (
        not doubled
        and not behind
        and len(ids) == tickets * emails_per_ticket
        and not missing
        and not strangers
        and not too_many
        and not leased
        and set(statuses) == {"sent"}
    )
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


def _leased_ids():
    return {
        row[0]
        for row in _query(
            "SELECT message_id FROM outbox_emails WHERE status = 'pending' AND leased_until > UTC_TIMESTAMP()"
        )
    }


def _kill(worker):
    """kill -9 of a worker and its work-horse."""
    for pid in children(worker.pid) + [worker.pid]:
        os.kill(pid, signal.SIGKILL)
    worker.wait()


def drill_kill9(tickets, timeout):
    """kill -9 of a worker and its work-horse (a) after it leased its batch and before SMTP, then
    (b) after the SMTP server accepted a message and before the row was marked sent. Both
    deliverers are made to pause at that point (drills/faults.py) so the kill lands there.
    (a)'s rows are delivered exactly once after their lease, (b)'s message at most twice with one
    Message-ID, every other email once; no row stays leased."""
    fresh_start(tickets)
    lease = 15
    stack = Stack(lease_seconds=lease)
    try:
        stack.scheduler(FAST)
        claimer = stack.worker(("--pause-after-claim", "120"))
        _wait(lambda: _leased_ids(), timeout, "a leased batch")
        time.sleep(1)
        claimed = _leased_ids()
        _kill(claimer)
        before_smtp = len(stack.received())
        sender = stack.worker(("--pause-after-send", "120"))
        _wait(lambda: stack.received(), timeout, "a first accepted message")
        time.sleep(1)
        accepted = set(stack.received())
        _kill(sender)
        for _ in range(2):
            stack.worker()
        wait_for_everything(stack, tickets, timeout)
        ok, observed = verdict(stack, tickets, at_most=2)
        received = stack.received()
        claimed_once = sum(1 for message_id in claimed if received.get(message_id) == 1)
        twice = {message_id for message_id, count in received.items() if count == 2}
        ok = (
            ok
            and claimed
            and before_smtp == 0
            and claimed_once == len(claimed)
            and len(accepted) == 1
            and twice <= accepted
        )
        return ok, (
            f"(a) killed holding {len(claimed)} leased emails before SMTP: {claimed_once} delivered "
            f"exactly once after the {lease} s lease; (b) killed after SMTP accepted 1 message: received "
            f"{len(twice) + 1 if twice else 1} time(s) in all, same Message-ID; " + observed
        )
    finally:
        stack.stop()


FAST = ("--every", "autotrack.jobs.tasks.sla_sweep=2", "--every", "autotrack.jobs.tasks.deliver_outbox=2")
LOCK_SECONDS = 11  # rq-scheduler holds its lock for its interval (1 s here) + 10 s


def drill_slow_sweep(tickets, timeout):
    """Every sweep batch holds its transaction (and its tickets' row locks) 12 s before writing,
    longer than the scheduler's lock lifetime, while two schedulers queue a sweep every 2 s for
    three workers: sweeps overlap all the time, yet each moment fires once."""
    fresh_start(tickets)
    stack = Stack()
    pause, batch = LOCK_SECONDS + 1, max(10, tickets // 4)
    try:
        for _ in range(3):
            stack.worker(("--sweep-pause", str(pause), "--sweep-batch", str(batch)))
        for _ in range(2):
            stack.scheduler(FAST)
        wait_for_everything(stack, tickets, timeout)
        ok, observed = verdict(stack, tickets)
        sweeps = _scalar("SELECT COUNT(DISTINCT sweep_id) FROM sla_events")
        return ok and sweeps > 1, (
            f"batches of {batch} held {pause} s (lock {LOCK_SECONDS} s); events written by "
            f"{sweeps} overlapping sweeps; " + observed
        )
    finally:
        stack.stop()


def _query(sql):
    """Every row of one SQL statement on the drill's database (a connection of its own)."""
    import pymysql

    connection = pymysql.connect(host="127.0.0.1", user="root", database=DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def _scalar(sql):
    return _query(sql)[0][0]


def _answers(port):
    """Whether something accepts connections on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - the service is still coming back
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not come back within {timeout} s")


def restart_redis():
    """FLUSHALL, then stop Redis without saving and start it again, as .ci/run starts it."""
    from redis import Redis

    redis = Redis(host="127.0.0.1", port=6379)
    redis.flushall()
    try:
        redis.shutdown(nosave=True)
    except Exception:  # noqa: BLE001 - the connection closes under us
        pass
    # The port, not any redis-server: a test's own Redis on another port may be running too.
    _wait(lambda: not _answers(6379), 30, "Redis's shutdown")
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/drill.log",
        ],
        check=True,
    )
    _wait(lambda: Redis(host="127.0.0.1", port=6379).ping(), 30, "Redis")


def restart_mariadb():
    """Stop MariaDB (a clean shutdown: open transactions are rolled back) and start it again."""
    subprocess.run(["mariadb-admin", "-uroot", "-h", "127.0.0.1", "shutdown"], check=True)
    _wait(
        lambda: subprocess.run(["pgrep", "-x", "mariadbd"], capture_output=True).returncode != 0,
        120,
        "MariaDB's shutdown",
    )
    subprocess.run(
        ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"], check=True
    )
    _wait(
        lambda: (
            subprocess.run(["mariadb-admin", "-uroot", "-h", "127.0.0.1", "ping"], capture_output=True).returncode == 0
        ),
        120,
        "MariaDB",
    )


def _events_of_kind(kind):
    return _scalar(f"SELECT COUNT(*) FROM sla_events WHERE kind = '{kind}'")


def drill_redis_restart(tickets, timeout):
    """The first-response deadlines fall over the next 30 s; once a third of them breached, Redis
    is flushed and restarted (queues, schedule and worker registrations gone). The schedulers
    register the periodic jobs again, and one more scheduler starts: each id is scheduled once,
    and every breach still fires once (warning, breach, level 1: two emails per ticket)."""
    from redis import Redis

    spread = 30
    fresh_start(
        tickets,
        raised=lambda i, now: now - timedelta(minutes=15) + timedelta(seconds=8 + spread * i / max(tickets - 1, 1)),
    )
    stack = Stack()
    try:
        for _ in range(2):
            stack.worker()
        for _ in range(2):
            stack.scheduler(FAST)
        _wait(lambda: _events_of_kind("breach") >= tickets // 3, 60, "the first breaches")
        before = _events_of_kind("breach")
        restart_redis()
        stack.scheduler(FAST)  # a scheduler started after the restart
        wait_for_everything(stack, tickets, timeout, emails_per_ticket=2, level=1)
        ok, observed = verdict(stack, tickets, emails_per_ticket=2, level=1)
        redis = Redis.from_url(REDIS_URL)
        scheduled = sorted(job_id.decode() for job_id in redis.zrange("rq:scheduler:scheduled_jobs", 0, -1))
        from autotrack.jobs.schedule import SCHEDULE

        declared = sorted(job.id for job in SCHEDULE)
        alive = sum(1 for worker in stack.workers if worker.poll() is None)
        ok = ok and scheduled == declared and alive == 2 and before < tickets
        restarted = stack.output_lines("starting a new one once Redis answers")
        return ok, (
            f"Redis restarted after {before} of {tickets} breaches; worker loops started again after "
            f"losing Redis mid-job {restarted}; schedule afterwards "
            f"{len(scheduled)} jobs ({'the declared ids, once each' if scheduled == declared else scheduled}); "
            f"workers alive {alive}/2; " + observed
        )
    finally:
        stack.stop()


# P1 on the 24/7 calendar: first response 15 min, resolution 2 h, warnings at 75 %; escalation
# levels at the first breach + 0, 60 and 240 min (services/org/orgs.py defaults).
P1_MOMENTS = (  # key, minutes after raising when it is crossed, minutes after raising of its deadline
    ("warning:first_response", 11.25, 15),
    ("breach:first_response", 15, 15),
    ("warning:resolution", 90, 120),
    ("breach:resolution", 120, 120),
    ("escalation:1", 15, 15),
    ("escalation:2", 75, 15),
    ("escalation:3", 255, 15),
)


def drill_downtime(tickets, timeout):
    """Simulated time: the tickets' history is set three hours back instead of the clock forward.
    A sweep ran at `down` (3 h ago), then scheduler and workers were stopped; they start now.
    Each threshold crossed in between fires exactly once, its event stamped with its real
    deadline and the ticket's breach times with the deadline, not the restart."""
    from autotrack.models import utcnow

    hours = 3
    seeded = utcnow()
    down = seeded - timedelta(hours=hours)
    # Raising times from 4 h 20 min before the outage to its last hour: thresholds before, during
    # and after it; none within 10 minutes of the restart, so the drill's own run crosses none.
    candidates = [down + timedelta(minutes=m, seconds=s) for m in range(-260, hours * 60 - 20, 7) for s in (0, 29)]

    def clear(at):
        return all(
            not seeded - timedelta(minutes=1) <= at + timedelta(minutes=m) <= seeded + timedelta(minutes=10)
            for _, m, _ in P1_MOMENTS
        )

    usable = [at for at in candidates if clear(at)]
    times = (
        [usable[i * len(usable) // tickets] for i in range(tickets)]
        if tickets <= len(usable)
        else [usable[i % len(usable)] for i in range(tickets)]
    )
    created = fresh_start(tickets, raised=lambda i, now: times[i])
    app = make_app()
    with app.app_context():  # the last sweep before the outage
        from autotrack.extensions import db
        from autotrack.services import sla

        sla.sweep(down)
        db.session.commit()
        db.engine.dispose()
    stack = Stack()
    restarted = utcnow()
    try:
        for _ in range(2):
            stack.worker()
        stack.scheduler(FAST)
        expected = {}
        for ticket_id, raised in created.items():
            for key, crossed, due in P1_MOMENTS:
                if raised + timedelta(minutes=crossed) <= seeded:
                    expected[ticket_id, key] = (
                        raised + timedelta(minutes=crossed) <= down,
                        raised + timedelta(minutes=due),
                    )
        at = restarted.replace(tzinfo=None).isoformat(sep=" ")
        _wait(
            lambda: not _scalar(f"SELECT COUNT(*) FROM tickets WHERE sla_next_check_at <= '{at}'"),
            timeout,
            "the catch-up sweep",
        )
        time.sleep(4)  # anything extra would show now
        emails = _scalar("SELECT COUNT(*) FROM outbox_emails")
        _wait(
            lambda: (
                not _scalar("SELECT COUNT(*) FROM outbox_emails WHERE status = 'pending'")
                and len(stack.received()) >= emails
            ),
            60,
            "the delivery",
        )
        events = _query("SELECT ticket_id, `key`, due_at, fired_at FROM sla_events")
        stamps = _query(
            "SELECT id, first_response_breached_at, first_response_due_at, resolution_breached_at, "
            "resolution_due_at FROM tickets"
        )
        unsent = _scalar("SELECT COUNT(*) FROM outbox_emails WHERE status <> 'sent'")
        naive = {key: (before, due.replace(tzinfo=None)) for key, (before, due) in expected.items()}
        second = timedelta(seconds=1)
        actual = collections.Counter((ticket_id, key) for ticket_id, key, _, _ in events)
        doubled = sum(1 for n in actual.values() if n > 1)
        unexpected = len(set(actual) - set(naive))
        absent = len(set(naive) - set(actual))
        wrong_due = sum(
            1
            for ticket_id, key, due, _ in events
            if (ticket_id, key) in naive and abs(due - naive[ticket_id, key][1]) > second
        )
        restart = restarted.replace(tzinfo=None) - second
        wrong_time = sum(
            1
            for ticket_id, key, _, fired in events
            if (ticket_id, key) in naive
            and (abs(fired - down.replace(tzinfo=None)) > second if naive[ticket_id, key][0] else fired < restart)
        )
        wrong_stamp = sum(
            1
            for _, fr_breached, fr_due, res_breached, res_due in stamps
            if (fr_breached and fr_breached != fr_due) or (res_breached and res_breached != res_due)
        )
        in_gap = sum(1 for before, _ in naive.values() if not before)
        received = stack.received()
        repeated = sum(1 for n in received.values() if n > 1)
        ok = (
            not doubled
            and not unexpected
            and not absent
            and not wrong_due
            and not wrong_time
            and not wrong_stamp
            and in_gap > 0
            and not unsent
            and len(received) == emails
            and not repeated
        )
        return ok, (
            f"{tickets} tickets, {hours} h down; thresholds crossed before {len(naive) - in_gap}, "
            f"during the outage {in_gap}; fired twice {doubled}, missing {absent}, extra {unexpected}; "
            f"wrong due time {wrong_due}, fired at the wrong moment {wrong_time}, breach stamped with "
            f"the restart {wrong_stamp}; {emails} emails, {len(received)} received, repeated {repeated}"
        )
    finally:
        stack.stop()


def drill_mariadb_restart(tickets, timeout):
    """MariaDB is stopped and started again while sweeps are mid-batch (each batch holds its
    transaction 3 s): the sweep in flight fails and is rolled back, the next one finishes the
    work; every ticket ends at level 3 with each moment and email exactly once."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry

    fresh_start(tickets)
    stack = Stack()
    batch = max(5, tickets // 6)
    try:
        for _ in range(2):
            stack.worker(("--sweep-pause", "3", "--sweep-batch", str(batch)))
        stack.scheduler(FAST)
        _wait(lambda: 0 < _scalar("SELECT COUNT(*) FROM sla_events"), 60, "the first sweep batch")
        written = _scalar("SELECT COUNT(*) FROM sla_events")
        restart_mariadb()
        wait_for_everything(stack, tickets, timeout)
        ok, observed = verdict(stack, tickets)
        failed = FailedJobRegistry(queue=Queue("default", connection=Redis.from_url(REDIS_URL)))
        failures = failed.get_job_ids()  # periodic job ids: each id once, however often it failed
        alive = sum(1 for worker in stack.workers if worker.poll() is None)
        half = _scalar(
            "SELECT COUNT(*) FROM tickets t WHERE escalation_level > "
            "(SELECT COUNT(*) FROM sla_events e WHERE e.ticket_id = t.id AND e.kind = 'escalation')"
        )
        return ok and alive == 2 and not half, (
            f"restarted after {written} events were written; jobs that failed with it {failures or 'none'}; "
            "workers alive "
            f"{alive}/2; tickets whose level is ahead of their events {half}; " + observed
        )
    finally:
        stack.stop()


def _login(base, email):
    """A cookie-keeping opener signed in through the sign-in form."""
    import http.cookiejar
    import re

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data=data, timeout=30).read()
    return opener


def _p95(base, token, seconds, clients=4):
    """p95 in ms of `clients` API clients listing tickets for `seconds` (and the 5xx count)."""
    stop_at = time.monotonic() + seconds

    def client(_):
        spent = []
        while time.monotonic() < stop_at:
            status, took, _ = _call(base, "GET", "/tickets?limit=20", token)
            spent.append((status, took))
        return spent

    with ThreadPoolExecutor(clients) as pool:
        calls = [call for calls in pool.map(client, range(clients)) for call in calls]
    times = sorted(took for _, took in calls)
    return times[int(len(times) * 0.95)] * 1000, sum(1 for status, _ in calls if status >= 500)


def drill_smtp(tickets, timeout):
    """SMTP refusing connections, then answering 421 to MAIL FROM, then 451 to every RCPT TO,
    then 550 for one recipient (the manager) only. Backoff 1 s doubling to at most 4 s (the
    defaults are 60 s and 1 h). Every other email is delivered once after the recovery; the
    manager's are failed, with the server's answer in the console and no credentials; the web's
    p95 while SMTP is down is the same as after."""
    fresh_start(tickets)
    user, password = "autotrack-mailer", "drill-smtp-s3cret"
    stack = Stack(
        sink=False,
        MAIL_USERNAME=user,
        MAIL_PASSWORD=password,
        SESSION_COOKIE_SECURE="false",
        AUTOTRACK_OUTBOX_BACKOFF_SECONDS=1,
        AUTOTRACK_OUTBOX_BACKOFF_CAP_SECONDS=4,
    )
    phase = 8 if tickets < 100 else 15
    try:
        base = stack.web()
        for _ in range(2):
            stack.worker()
        stack.scheduler(FAST)
        token = _call(base, "POST", "/auth/token", body={"email": "lead@drill.example", "password": PASSWORD})[2][
            "access_token"
        ]
        # Measured once the sweep is done, so that only SMTP differs between the two measurements.
        _wait(
            lambda: (
                not _scalar("SELECT COUNT(*) FROM tickets WHERE escalation_level < 3")
                and _scalar("SELECT COUNT(*) FROM outbox_emails WHERE attempts > 0") > 0
            ),
            timeout,
            "a first try",
        )
        down_p95, down_errors = _p95(base, token, phase)  # refused: nothing listens on the port
        answers = {}

        def answered(code):
            return _scalar(f"SELECT COUNT(*) FROM outbox_emails WHERE last_error LIKE '%({code},%'")

        stack.start_sink("421", auth=f"{user}:{password}")
        time.sleep(phase)
        answers[421] = answered(421)
        stack.set_sink_mode("451")
        time.sleep(phase)
        answers[451] = answered(451)
        lost_during_outage = _scalar("SELECT COUNT(*) FROM outbox_emails WHERE status = 'failed'")
        tries = _scalar("SELECT MAX(attempts) FROM outbox_emails")
        stack.set_sink_mode("550 manager@drill.example")
        _wait(
            lambda: _scalar("SELECT COUNT(*) FROM outbox_emails WHERE status = 'pending'") == 0,
            timeout,
            "the delivery after the recovery",
        )
        up_p95, up_errors = _p95(base, token, phase)
        received = stack.received()
        rows = _query("SELECT message_id, recipient, status, last_error FROM outbox_emails")
        to_manager = [row for row in rows if row[1] == "manager@drill.example"]
        others = [row for row in rows if row[1] != "manager@drill.example"]
        failed_right = sum(1 for row in to_manager if row[2] == "failed" and "550" in (row[3] or ""))
        delivered_once = sum(1 for row in others if row[2] == "sent" and received.get(row[0]) == 1)
        manager_received = sum(1 for row in to_manager if row[0] in received)
        console = (
            _login(base, "admin@drill.example")
            .open(f"{base}/admin/outbox/?search=manager%40drill.example", timeout=30)
            .read()
            .decode()
        )
        shown = "No such mailbox here" in console and "550" in console
        leaked = password in console or any(password in (row[3] or "") for row in rows)
        same_speed = down_p95 <= max(2 * up_p95, up_p95 + 100)
        ok = (
            failed_right == tickets
            and delivered_once == 2 * tickets
            and not manager_received
            and not lost_during_outage
            and tries >= 3
            and all(answers.values())
            and shown
            and not leaked
            and same_speed
            and not down_errors
            and not up_errors
        )
        return ok, (
            f"{len(rows)} emails: failed for good during the outage {lost_during_outage}, up to {tries} "
            f"tries each (last answer 421: {answers[421]} emails, 451: {answers[451]}); "
            f"afterwards {delivered_once}/{2 * tickets} delivered once, "
            f"{failed_right}/{tickets} to the refused mailbox failed with its 550 (received {manager_received}); "
            f"console shows the error {shown}, password anywhere {leaked}; API p95 {down_p95:.0f} ms "
            f"with SMTP down, {up_p95:.0f} ms with it up; 5xx {down_errors + up_errors}"
        )
    finally:
        stack.stop()


def _call(base, method, path, token=None, body=None):
    """(status, seconds, JSON answer or None) of one API call."""
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
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
        tokens = [
            _call(base, "POST", "/auth/token", body={"email": "lead@drill.example", "password": PASSWORD})[2][
                "access_token"
            ]
            for _ in range(5)
        ]
        stop_at = time.monotonic() + seconds

        def client(number):
            token, calls, written = tokens[number % len(tokens)], [], []
            while time.monotonic() < stop_at:
                status, spent, answer = _call(base, "POST", "/tickets", token, {"title": f"Load {number}"})
                calls.append((status, spent))
                if status == 201:
                    written.append(("ticket", answer["number"]))
                    status, spent, answer = _call(
                        base,
                        "POST",
                        f"/tickets/{answer['number']}/comments",
                        token,
                        {"body": "Looking into it", "internal": False},
                    )
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

        observed = (
            f"{clients} clients, {len(calls)} calls in {seconds} s ({len(calls) / seconds:.0f}/s); 5xx {errors}, "
            f"4xx {refused}; acknowledged {len(numbers)} tickets, {len(comment_ids)} replies, lost "
            f"{lost_tickets + lost_comments}; p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms"
        )
        return not errors and not lost_tickets and not lost_comments and len(calls) > 0, observed
    finally:
        stack.stop()


DRILLS = {
    "overlap": (
        "two schedulers, three workers: one escalation event per ticket and level, one email each",
        drill_overlap,
    ),
    "slow-sweep": (
        "sweep batches held longer than the scheduler's lock while sweeps start every 2 s: no duplicates",
        drill_slow_sweep,
    ),
    "kill9": (
        "kill -9 mid-SMTP: every email delivered, at most twice with the same Message-ID, no row left leased",
        drill_kill9,
    ),
    "sigterm": ("SIGTERM to a random worker every 2 s: every email delivered once", drill_sigterm),
    "redis-restart": (
        "Redis flushed and restarted mid-run: the periodic jobs registered again once, with stable ids; "
        "every breach fires once",
        drill_redis_restart,
    ),
    "downtime": (
        "jobs down for 3 (simulated) hours across deadlines: each crossed threshold fires once, stamped with "
        "its real due time",
        drill_downtime,
    ),
    "smtp": (
        "SMTP refusing, then 421, then 451, then 550 for one recipient: backoff, that recipient's mail failed "
        "and shown in the console without credentials, the rest delivered once; web p95 unchanged",
        drill_smtp,
    ),
    "mariadb-restart": (
        "MariaDB restarted during a sweep: the sweep fails cleanly, the next completes the work, nothing half-written",
        drill_mariadb_restart,
    ),
    "load": (
        "50 API clients raising tickets and replying for 60 s while sweeps run: no 5xx, no acknowledged write lost",
        drill_load,
    ),
}
QUICK = tuple(name for name in DRILLS if name != "load")  # the load drill's figures need the machine to itself


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer tickets, for CI")
    parser.add_argument(
        "drills", nargs="*", help=f"which drills (default all: {', '.join(DRILLS)}; with --quick: {', '.join(QUICK)})"
    )
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
