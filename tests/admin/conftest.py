"""The console tests' fixtures."""

from datetime import date

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import BusinessCalendar, DirectoryEntry, Holiday, Mailbox
from autotrack.models.types import utcnow
from autotrack.services import outbox
from autotrack.services.mail import intake as mail_in
from tests import factories


@pytest.fixture
def rows(org, other_org):
    """One row of every console model in each organization."""
    for o in (org, other_org):
        factories.make_user(o, "agent")  # told about new tickets: a notification
        factories.make_ticket(factories.make_user(o))  # a ticket and its audit event
        factories.make_category(o, f"{o.slug.title()} hardware")
        calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == o.id))
        _db.session.add(Holiday(org_id=o.id, calendar_id=calendar_id, date=date(2026, 12, 25), name="Christmas"))
        _db.session.add(
            DirectoryEntry(
                org_id=o.id, employee_id="E1", first_name="Ann", last_name=o.slug, email=f"ann@{o.slug}.example"
            )
        )
        outbox.queue_email(
            recipient=f"x@{o.slug}.example",
            subject="s",
            body_text="b",
            dedupe_key=f"k:{o.slug}",
            org_id=o.id,
            now=utcnow(),
        )
        mailbox = Mailbox(
            org_id=o.id, name="it", address=f"it@{o.slug}.example", department_id=factories.default_department(o).id
        )
        _db.session.add(mailbox)
        _db.session.commit()
        mail_in.store(mailbox, f"From: someone@{o.slug}.example\r\nSubject: Hello\r\n\r\nHi\r\n".encode(), now=utcnow())
    _db.session.commit()
