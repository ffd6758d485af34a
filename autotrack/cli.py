"""Operator commands: `flask autotrack …`, `flask sla …`, `flask outbox …`, `flask jobs …`."""

from datetime import datetime

import click
from flask.cli import AppGroup

from autotrack.extensions import db
from autotrack.models.types import utcnow
from autotrack.services import outbox, sla
from autotrack.services.errors import DomainError
from autotrack.services.org import demo, imports, orgs
from autotrack.services.tenancy import org_by_slug

autotrack_cli = AppGroup("autotrack", help="Organizations, users and demo data.")


def _fail(error):
    db.session.rollback()
    raise click.ClickException(error.message)


@autotrack_cli.command("doctor")
def doctor():
    """Database, Redis, how long ago the sweep and the outbox delivery last ran, the oldest email
    waiting; exit status 1 when anything needs a look."""
    from autotrack.services import health

    healthy, report = health.check(now=utcnow())
    for key, value in report.items():
        if key != "problems":
            click.echo(f"{key}: {'never' if value is None else value}")
    for problem in report["problems"]:
        click.echo(f"problem: {problem}", err=True)
    if not healthy or report["problems"]:
        raise SystemExit(1)


@autotrack_cli.command("create-org")
@click.argument("name")
@click.option("--slug", required=True, help="Short lower-case id, also the ticket prefix (acme -> ACME-1001).")
@click.option("--admin-email", required=True)
@click.option("--admin-password", required=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone of the business calendar.")
def create_org(name, slug, admin_email, admin_password, timezone):
    """Create an organization with default priorities, statuses, calendar, escalations and an admin."""
    try:
        org = orgs.create_org(name, slug, admin_email=admin_email, admin_password=admin_password, timezone=timezone)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created organization {org.name} ({org.slug}); admin {admin_email.lower()}.")


@autotrack_cli.command("create-user")
@click.argument("email")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True, help="org_admin, manager, agent, employee, or a custom role's name.")
@click.option("--password", required=True)
@click.option("--name")
@click.option("--department", help="Department name; agents and managers work in it.")
@click.option("--lead", is_flag=True, help="Make the agent a lead of the department.")
def create_user(email, org_slug, role, password, name, department, lead):
    """Create a user in an organization."""
    try:
        org = org_by_slug(org_slug)
        user = orgs.create_user(
            org, email, role_key=role, password=password, name=name, department=department, lead=lead
        )
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created {user.role.name.lower()} {user.email} in {org.slug}.")


@autotrack_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo organization exists already.")
def seed_demo(if_empty):
    """Create the demo organization `acme` and print its logins."""
    if demo.demo_exists():
        if not if_empty:
            raise click.ClickException("The demo organization 'acme' exists already.")
        click.echo("Demo organization 'acme' is already there.")
    elif if_empty and demo.other_organizations():
        click.echo("This database holds other organizations: no demo (it is seeded only into an empty one).")
        return
    else:
        try:
            demo.seed_demo(now=utcnow())
            db.session.commit()
        except DomainError as error:
            raise click.ClickException(error.message) from None
        except Exception as error:
            db.session.rollback()
            # The history's sweeps commit as they go: what failed is half there.
            raise click.ClickException(
                f"Seeding the demo failed part way ({error.__class__.__name__}: {error}); "
                "start again from an empty database (e.g. delete instance/autotrack.db, "
                "then `flask db upgrade`)."
            ) from error
        click.echo("Created demo organization 'acme' with 50 tickets.")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for email, role, _ in demo.demo_logins():
        click.echo(f"  {role:<10} {email}")
    click.echo("Self-registration (/register): organization acme, employee id E0100, email nora@acme.example.")


@autotrack_cli.command("import")
@click.argument("kind", type=click.Choice(list(imports.KINDS)))
@click.argument("file", type=click.File("rb"))
@click.option("--org", "org_slug", required=True)
@click.option("--dry-run", is_flag=True, help="Check every row and print what would happen; write nothing.")
def import_csv(kind, file, org_slug, dry_run):
    """Import a CSV file of KIND (all or nothing; re-importing the same file changes nothing)."""
    try:
        org = org_by_slug(org_slug)
        report = imports.run(org, kind, file.read(imports.MAX_BYTES + 1), dry_run=dry_run)
    except DomainError as error:
        _fail(error)
    for row in report.rows:
        detail = f": {row.message}" if row.message else ""
        detail = f"{detail} ({row.text})" if row.action == "error" and row.text else detail
        click.echo(f"line {row.line}: {row.action}{detail}")
    if not report.ok:
        raise click.ClickException(report.summary())
    db.session.commit()
    click.echo(report.summary())


sla_cli = AppGroup("sla", help="SLA evaluation.")


def _moment(now_iso):
    """The --now option as an aware datetime; without it, the wall clock."""
    if not now_iso:
        return utcnow()
    try:
        now = datetime.fromisoformat(now_iso.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-23T17:00:00Z", param_hint="--now") from None
    if now.tzinfo is None:
        raise click.BadParameter("give a timezone, e.g. a trailing Z for UTC", param_hint="--now")
    return now


@sla_cli.command("sweep")
@click.option("--now", "now_iso", help="Evaluate as of this ISO 8601 time (default: now), e.g. 2026-11-23T17:00:00Z.")
def sla_sweep(now_iso):
    """Run one SLA sweep and print what it did."""
    result = sla.sweep(_moment(now_iso))
    click.echo(f"Warned: {result.warned}")
    click.echo(f"Breached: {result.breached}")
    for level in sorted(result.escalated) or []:
        click.echo(f"Escalated to level {level}: {result.escalated[level]}")
    if not result.escalated:
        click.echo("Escalated: 0")
    click.echo(f"Reminder digests: {result.digests}")
    click.echo(f"Tickets recomputed after settings changes: {result.recomputed}")
    click.echo(f"Emails queued: {result.emails_queued}")


outbox_cli = AppGroup("outbox", help="The email outbox.")


@outbox_cli.command("flush")
@click.option(
    "--now",
    "now_iso",
    help="Deliver what is due at this ISO 8601 time (default: now), e.g. what a sweep run with the same --now queued.",
)
def outbox_flush(now_iso):
    """Deliver every email that is due now (or at --now)."""
    result = outbox.deliver_all_due(_moment(now_iso))
    click.echo(f"Outbox: {result.summary()}.")


mail_cli = AppGroup("mail", help="Mail in: tickets and replies by email.")
autotrack_cli.add_command(mail_cli)


@mail_cli.command("ingest")
@click.option(
    "--mailbox", "mailbox_name", required=True, help="The mailbox (its name in the console) the mail came to."
)
@click.option("--org", "org_slug", default=None, help="The organization, when several have a mailbox of that name.")
@click.argument("file", type=click.File("rb"), default="-")
def mail_ingest(mailbox_name, org_slug, file):
    """Read one RFC 5322 message from FILE or standard input (an MTA's pipe) into a ticket or reply.

    Exits 0 once the message is stored, whatever became of it (a failure is kept for the console),
    so the MTA does not bounce or retry it; 75 (EX_TEMPFAIL) if it could not be stored."""
    from autotrack.services.mail import intake as mail_in
    from autotrack.services.mail import mailboxes

    raw = file.read()
    try:
        org_id = org_by_slug(org_slug).id if org_slug else None
        mailbox = mailboxes.by_name(mailbox_name, org_id)
    except DomainError as error:
        _fail(error)
    try:
        inbound_id, _ = mail_in.store(mailbox, raw, now=utcnow())
    except Exception as error:  # noqa: BLE001 - the MTA keeps the message and tries again later
        db.session.rollback()
        click.echo(f"Could not store the message: {error}", err=True)
        raise SystemExit(75) from None
    try:
        status = mail_in.process(inbound_id, now=utcnow())
    except Exception as error:  # noqa: BLE001 - stored: the periodic job processes it again
        db.session.rollback()
        click.echo(f"Message {inbound_id} stored; processing failed and will be retried: {error}", err=True)
        return
    click.echo(f"Message {inbound_id}: {status}.")


@mail_cli.command("fetch")
def mail_fetch():
    """Fetch every active IMAP mailbox now (the periodic job does this every minute)."""
    from autotrack.services.mail import mailboxes

    for name, outcome in mailboxes.fetch_all(now=utcnow()).items():
        click.echo(f"{name}: {outcome if isinstance(outcome, str) else f'{outcome} imported'}")


jobs_cli = AppGroup("jobs", help="Background workers (needs REDIS_URL).")


def _redis():
    from flask import current_app
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set; without Redis the web process runs the jobs itself.")
    return Redis.from_url(url)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def jobs_worker(burst):
    """Run an RQ worker for the job queue."""
    import time

    from flask import current_app
    from redis import ConnectionError as RedisConnectionError
    from redis import TimeoutError as RedisTimeoutError

    from autotrack.jobs.schedule import QUEUE_NAME
    from autotrack.jobs.worker import AppWorker

    connection, app = _redis(), current_app._get_current_object()
    while True:
        # RQ retries a lost Redis only while waiting for a job: one lost while a job runs ends
        # its work loop (or raises from its teardown). A worker that quits on a Redis restart
        # leaves the queue to the others, or to no one, so this starts a new one instead.
        worker = AppWorker([QUEUE_NAME], connection=connection, app=app)
        try:
            worker.work(burst=burst, with_scheduler=False)
            if burst or worker.stop_requested:
                return
            error = "its work loop ended on an error"
        except (RedisConnectionError, RedisTimeoutError) as lost:
            if burst:
                raise click.ClickException(f"Redis is unreachable: {lost}") from None
            error = lost
        click.echo(f"Worker stopped ({error}); starting a new one once Redis answers.", err=True)
        time.sleep(1)  # an error that repeats at once must not become a busy loop
        _wait_for_redis(connection)


def _wait_for_redis(connection):
    """Until Redis answers again, asking after 1, 2, 4 … (at most 30) seconds."""
    import time

    from redis import RedisError

    delay = 1
    while True:
        try:
            connection.ping()
            return
        except RedisError:
            time.sleep(delay)
            delay = min(delay * 2, 30)


@jobs_cli.command("scheduler")
@click.option("--burst", is_flag=True, help="Move due jobs to the queue once, then stop.")
@click.option("--interval", default=5, show_default=True, help="Seconds between scheduler passes.")
def jobs_scheduler(burst, interval):
    """Run rq-scheduler with the periodic jobs, reconciled with the declared schedule first.

    rq-scheduler itself stops at the first Redis error; this command waits for Redis instead and
    reconciles again when it is back (a Redis restarted without its data has lost the schedule).
    """
    from redis import ConnectionError as RedisConnectionError
    from redis import TimeoutError as RedisTimeoutError
    from rq_scheduler import Scheduler

    from autotrack.jobs.schedule import QUEUE_NAME, reconcile

    connection = _redis()
    while True:
        try:
            scheduler = Scheduler(queue_name=QUEUE_NAME, connection=connection, interval=interval)
            added, removed = reconcile(scheduler)
            click.echo(f"Schedule reconciled: added {added or 'none'}, removed {removed or 'none'}.")
            scheduler.run(burst=burst)
            return
        except (RedisConnectionError, RedisTimeoutError) as error:
            if burst:
                raise click.ClickException(f"Redis is unreachable: {error}") from None
            click.echo(f"Redis is unreachable ({error}); reconciling again once it answers.", err=True)
            _wait_for_redis(connection)


def register_cli(app):
    app.cli.add_command(autotrack_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(jobs_cli)
