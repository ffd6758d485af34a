"""`flask autotrack …` commands for operators. Each command commits once, or not at all."""
import click
from flask.cli import AppGroup

from autotrack.extensions import db
from autotrack.services import demo, orgs
from autotrack.services.errors import DomainError
from autotrack.services.tenancy import org_by_slug

autotrack_cli = AppGroup("autotrack", help="Organizations, users and demo data.")


def _fail(error):
    db.session.rollback()
    raise click.ClickException(error.message)


@autotrack_cli.command("create-org")
@click.argument("name")
@click.option("--slug", required=True, help="Short lower-case id, also the ticket prefix (acme -> ACME-1001).")
@click.option("--admin-email", required=True)
@click.option("--admin-password", required=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone of the business calendar.")
def create_org(name, slug, admin_email, admin_password, timezone):
    """Create an organization with default priorities, statuses, calendar, escalations and an admin."""
    try:
        org = orgs.create_org(name, slug, admin_email=admin_email, admin_password=admin_password,
                              timezone=timezone)
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
        user = orgs.create_user(org, email, role_key=role, password=password, name=name,
                                department=department, lead=lead)
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
    else:
        demo.seed_demo()
        db.session.commit()
        click.echo("Created demo organization 'acme' with 50 tickets.")
    click.echo("Demo logins (password for all: %s):" % demo.DEMO_PASSWORD)
    for email, role, _ in demo.demo_logins():
        click.echo(f"  {role:<10} {email}")


def register_cli(app):
    app.cli.add_command(autotrack_cli)
