"""Held mail: received messages whose sender could not be verified (a staff address without a
passing check from a trusted server, or a failed check). The org admin reads each one and
releases it as its sender, or discards it; nothing was created or answered meanwhile."""

from flask import flash
from flask_admin.actions import action
from flask_login import current_user
from wtforms.validators import ValidationError as WtfValidationError

from autotrack.admin.base import OrgModelView
from autotrack.extensions import db
from autotrack.models import InboundStatus, Mailbox
from autotrack.models.types import utcnow
from autotrack.services.errors import DomainError
from autotrack.services.mail import intake as mail_in
from autotrack.services.mail import mailboxes


def trusted_servers_field(form, field):
    """A form validator for the mailbox's trusted authserv-ids (host names only)."""
    try:
        mailboxes.set_trusted_servers(Mailbox(), field.data)
    except DomainError as error:
        raise WtfValidationError(next(iter(error.fields.values()), error.message)) from None


TRUSTED_SERVERS_HELP = (
    "The authserv-id your own receiving mail server writes in the Authentication-Results header "
    "(e.g. mx.acme.example), several separated by spaces. Only those results are believed; the "
    "server must remove such headers that arrive with the mail. Empty: mail from staff addresses "
    "is held for you to release."
)


class HeldMailView(OrgModelView):
    """Held messages, newest first, with why each was held; "Release as the sender" processes it
    as from its sender, "Discard" keeps it listed under Received mail and makes nothing."""

    can_create = can_edit = can_delete = False
    can_export = False
    column_list = ("received_at", "mailbox", "sender", "subject", "error")
    column_labels = {"error": "Why it is held"}
    column_default_sort = ("id", True)
    column_searchable_list = ("sender", "subject")
    column_details_list = ("received_at", "mailbox", "message_id", "sender", "subject", "status", "error", "original")
    column_formatters_detail = {"original": lambda v, c, model, n: mail_in.preview(model.raw)}

    def scope(self):
        return (self.model.status == InboundStatus.HELD,)

    @action(
        "release",
        "Release as the sender",
        "Process the selected messages as written by their senders (a staff address then acts as that person)?",
    )
    def action_release(self, ids):
        outcomes = []
        for inbound_id in ids:
            try:
                outcomes.append(mail_in.release(current_user.org_id, int(inbound_id), current_user, now=utcnow()))
            except (DomainError, ValueError):
                db.session.rollback()
                continue  # not held (any more), or not ours
        done = sum(1 for status in outcomes if status == InboundStatus.PROCESSED)
        flash(
            f"{len(outcomes)} message(s) released: {done} made a ticket or reply."
            if outcomes
            else "Only held messages can be released.",
            "success" if done else "warning",
        )

    @action("discard", "Discard", "Discard the selected messages? They make nothing and are not answered.")
    def action_discard(self, ids):
        discarded = 0
        for inbound_id in ids:
            try:
                mail_in.discard(current_user.org_id, int(inbound_id), now=utcnow())
                discarded += 1
            except (DomainError, ValueError):
                continue
        db.session.commit()
        flash(
            f"{discarded} message(s) discarded." if discarded else "Only held messages can be discarded.",
            "success" if discarded else "warning",
        )


def register_mail_views(admin):
    from autotrack.models import InboundMessage

    admin.add_view(HeldMailView(InboundMessage, name="Held mail", category="Email", endpoint="held_mail"))
