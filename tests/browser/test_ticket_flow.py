"""The whole ticket workflow in a real browser, as the people doing it would click through it."""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import DirectoryEntry, Ticket
from autotrack.models.types import utcnow
from autotrack.services import sla, tickets
from autotrack.services.org import orgs
from tests import factories
from tests.browser.conftest import sign_in

PASSWORD = "a long enough secret"


def test_employee_registers_raises_with_attachment_agent_resolves_employee_confirms(org, open_session, tmp_path):
    support = orgs.department_by_name(org, "Support")
    factories.make_category(org, "IT/Hardware/Laptop", default_priority="P2", default_department=support)
    _db.session.add(
        DirectoryEntry(
            org_id=org.id,
            employee_id="E-7",
            first_name="Ada",
            last_name="Lovelace",
            email="ada@acme.example",
            department_id=support.id,
        )
    )
    agent = factories.make_user(org, "agent", name="Sam Support")
    _db.session.commit()
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)

    # The employee registers against the staff directory and raises a ticket.
    ada = open_session("employee")
    ada.goto("/register")
    ada.get_by_label("Organization code").fill("acme")
    ada.get_by_label("Employee id").fill("E-7")
    ada.get_by_label("Work email").fill("ada@acme.example")
    ada.get_by_label("Choose a password").fill(PASSWORD)
    ada.get_by_label("Repeat the password").fill(PASSWORD)
    ada.get_by_role("button", name="Create my account").click()
    expect(ada).to_have_url(re.compile(r"/portal/$"))
    expect(ada.get_by_text("Welcome, Ada Lovelace")).to_be_visible()
    ada.get_by_role("link", name="Raise a ticket").click()
    ada.get_by_label("Title").fill("Laptop screen flickers")
    ada.get_by_label("Area").select_option(label="IT")
    ada.get_by_label("Topic").select_option(label="Hardware")
    ada.get_by_label("Issue").select_option(label="Laptop")
    ada.get_by_label("Description").fill("Since this morning, every few seconds.")
    ada.get_by_label("Attachments").set_input_files(str(screenshot))
    ada.get_by_role("button", name="Raise ticket").click()
    expect(ada.get_by_text(re.compile(r"Ticket ACME-\d+ raised"))).to_be_visible()
    expect(ada.get_by_role("link", name="screen.png")).to_be_visible()
    ticket = _db.session.scalar(select(Ticket).where(Ticket.title == "Laptop screen flickers"))
    assert ticket.category.path == "IT/Hardware/Laptop" and ticket.priority.name == "P2"

    # The agent claims it from the queue, replies and resolves.
    sam = open_session("agent")
    sign_in(sam, agent.email, factories.PASSWORD)
    sam.get_by_role("link", name="Unassigned").click()
    sam.get_by_role("link", name=ticket.reference).click()
    sam.get_by_role("button", name="Assign").click()
    expect(sam.get_by_text(f"{ticket.reference} is now")).to_be_visible()
    sam.get_by_label("Reply", exact=True).fill("Please try the new driver; I pushed it to your laptop.")
    sam.get_by_role("button", name="Send").click()
    expect(sam.get_by_text("Reply sent.")).to_be_visible()
    sam.get_by_role("button", name="Resolve").click()
    expect(sam.get_by_text(f"{ticket.reference} is now Resolved")).to_be_visible()

    # The employee sees the answer and confirms.
    ada.reload()
    expect(ada.get_by_text("Please try the new driver")).to_be_visible()
    ada.get_by_role("button", name="Confirm it is solved").click()
    expect(ada.get_by_text(f"{ticket.reference} is now Closed")).to_be_visible()
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "closed"


def test_a_manager_reassigns_an_escalated_ticket(org, open_session):
    manager = factories.make_user(org, "manager", name="Mia Manager")
    first = factories.make_user(org, "agent", name="Al First", lead=True)
    second = factories.make_user(org, "agent", name="Bea Second")
    ticket = tickets.create_ticket(
        first,
        title="Payroll export fails",
        requester=factories.make_user(org),
        priority=factories.priority(org, "P1"),
        now=utcnow(),
    )
    tickets.transition(first, ticket, "assign", assignee=first, now=utcnow())
    _db.session.commit()
    sla.sweep(ticket.created_at + timedelta(hours=3))  # breached and escalated
    _db.session.commit()
    assert ticket.escalation_level >= 1

    mia = open_session("manager")
    sign_in(mia, manager.email, factories.PASSWORD)
    mia.goto("/manager/")
    mia.get_by_role("link", name=ticket.reference).click()
    mia.get_by_label("Assignee").select_option(label="Bea Second")
    mia.get_by_role("button", name="Assign").click()
    expect(mia.get_by_text(f"{ticket.reference} is now")).to_be_visible()
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).assignee_id == second.id
