from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Category, Ticket, TicketWatcher
from autotrack.models.types import utcnow
from autotrack.portal import bp
from autotrack.services import policy, tickets
from autotrack.services.errors import DomainError, NotFound
from autotrack.services.pagination import keyset_page
from autotrack.services.tenancy import get_scoped_optional, scoped, ticket_for
from autotrack.services.tickets import attachments, feedback, queues, watchers
from autotrack.web import ticket_pages
from autotrack.web.ticket_forms import CcForm, CommentForm, FeedbackForm, NewTicketForm, TransitionForm, WatchForm


def _own_ticket(reference):
    """Only tickets the user raised or was copied on are reachable here; anything else is a 404."""
    ticket = ticket_for(current_user, reference)
    if ticket.requester_id != current_user.id and not policy.is_copied(current_user, ticket):
        raise NotFound()
    return ticket


@bp.route("/")
def home():
    """The tickets the user raised, or (`?copied=1`) those colleagues copied them on."""
    copied = request.args.get("copied") == "1"
    if copied:
        mine = Ticket.id.in_(
            select(TicketWatcher.ticket_id).where(
                TicketWatcher.user_id == current_user.id, TicketWatcher.kind == TicketWatcher.CC
            )
        )
    else:
        mine = Ticket.requester_id == current_user.id
    query = scoped(Ticket, current_user.org_id).where(mine).options(*queues.ROW_OPTIONS)
    items, next_cursor = keyset_page(query, Ticket.id, request.args.get("cursor"))
    return render_template("portal/home.html", tickets=items, next_cursor=next_cursor, copied=copied)


@bp.route("/tickets/new", methods=["GET", "POST"])
def new_ticket():
    form = NewTicketForm()
    form.category_id.choices = ticket_pages.category_choices(current_user.org_id, current_user)
    if form.validate_on_submit():
        try:
            category = get_scoped_optional(Category, form.category_id.data, current_user.org_id)
            attachments.check_request(None, form.attachments.data or [])  # too many: nothing is raised
            ticket = tickets.create_ticket(
                current_user, title=form.title.data, description=form.description.data, category=category, now=utcnow()
            )
        except DomainError as error:
            db.session.rollback()
            for name, message in error.fields.items():
                if name in form:
                    form[name].errors.append(message)
            if not error.fields:
                flash(error.message, "danger")
        else:
            # A refused file does not lose the ticket: it is saved, and the file is named.
            refused = attachments.add_many(current_user, ticket, form.attachments.data or [])
            db.session.commit()
            flash(f"Ticket {ticket.reference} raised. We will get back to you.", "success")
            for message in refused:
                flash(f"Not attached: {message} Add it again from the ticket page.", "warning")
            return redirect(url_for("portal.ticket", reference=ticket.reference))
    status = 422 if form.errors else 200
    return render_template(
        "portal/new_ticket.html", form=form, category_tree=ticket_pages.category_tree(current_user.org_id, current_user)
    ), status


@bp.route("/tickets/<reference>")
def ticket(reference):
    ticket = _own_ticket(reference)
    if reference != ticket.reference:  # a merged duplicate's number, or the number alone
        if reference.split("-")[-1] != str(ticket.number):
            flash(f"{reference} was merged into {ticket.reference}: it continues here.", "info")
        return redirect(url_for("portal.ticket", reference=ticket.reference))
    ticket_pages.opened(ticket)
    return _ticket_page(ticket)


def _ticket_page(ticket, feedback_form=None, status=200):
    return render_template(
        "portal/ticket.html",
        ticket=ticket,
        watchers=watchers.watchers_of(ticket),
        cc_form=CcForm(),
        watch_form=WatchForm(),
        comments=ticket_pages.visible_comments(ticket, current_user),
        files=attachments.visible_attachments(current_user, ticket),
        comment_form=CommentForm(),
        transition_form=TransitionForm(),
        actions=tickets.allowed_actions(current_user, ticket),
        asked=feedback.pending_for(ticket, current_user),
        rated=feedback.latest(ticket),
        feedback_form=feedback_form or FeedbackForm(),
    ), status


@bp.route("/tickets/<reference>/feedback", methods=["POST"])
def rate(reference):
    """The requester rates their resolved ticket from the portal (the same rule as the email link)."""
    ticket = _own_ticket(reference)
    asked, form = feedback.pending_for(ticket, current_user), FeedbackForm()
    if asked is None:
        flash("There is nothing to rate on this ticket now.", "warning")
        return redirect(url_for("portal.ticket", reference=ticket.reference))
    if form.validate_on_submit():
        try:
            feedback.rate(asked, form.rating.data, form.comment.data, now=utcnow())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "warning")
        else:
            flash("Thank you for your rating.", "success")
        return redirect(url_for("portal.ticket", reference=ticket.reference))
    return _ticket_page(ticket, feedback_form=form, status=400)  # the form again, with its messages


@bp.route("/tickets/<reference>/comments", methods=["POST"])
def comment(reference):
    form = CommentForm()
    form.internal.data = False  # requesters only write public replies
    return ticket_pages.handle_comment(_own_ticket(reference), form, "portal.ticket")


@bp.route("/tickets/<reference>/transitions", methods=["POST"])
def transition(reference):
    return ticket_pages.handle_transition(_own_ticket(reference), TransitionForm(), "portal.ticket")


@bp.route("/tickets/<reference>/watchers", methods=["POST"])
def add_cc(reference):
    """The requester copies a colleague on their ticket."""
    return ticket_pages.handle_add_cc(_own_ticket(reference), CcForm(), "portal.ticket")


@bp.route("/tickets/<reference>/watchers/<int:user_id>/delete", methods=["POST"])
def remove_watcher(reference, user_id):
    """The requester takes a colleague off, or a copied colleague leaves."""
    return ticket_pages.handle_remove_watcher(_own_ticket(reference), WatchForm(), user_id, "portal.ticket")
