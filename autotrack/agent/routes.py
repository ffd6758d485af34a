from flask import render_template, request
from flask_login import current_user

from autotrack.agent import bp
from autotrack.models import ACTIVE_STATES, Ticket
from autotrack.services import attachments, tickets
from autotrack.services.pagination import keyset_page
from autotrack.services.tenancy import ticket_for, visible_tickets
from autotrack.web import ticket_pages
from autotrack.web.ticket_forms import CommentForm, PriorityForm, TaskForm, TransitionForm

VIEWS = {
    "mine": ("Assigned to me", lambda q: q.where(Ticket.assignee_id == current_user.id,
                                                   Ticket.state.in_(ACTIVE_STATES))),
    "unassigned": ("Unassigned", lambda q: q.where(Ticket.assignee_id.is_(None),
                                                  Ticket.state.in_(ACTIVE_STATES))),
    "open": ("All open", lambda q: q.where(Ticket.state.in_(ACTIVE_STATES))),
    "all": ("Everything", lambda q: q),
}


@bp.route("/")
def home():
    view = request.args.get("view", "open")
    if view not in VIEWS:
        view = "open"
    query = VIEWS[view][1](visible_tickets(current_user))
    items, next_cursor = keyset_page(query, Ticket.id, request.args.get("cursor"))
    return render_template("agent/home.html", tickets=items, next_cursor=next_cursor, view=view, views=VIEWS)


@bp.route("/tickets/<reference>")
def ticket(reference):
    ticket = ticket_for(current_user, reference)
    transition_form = TransitionForm()
    transition_form.assignee_id.choices = ticket_pages.assignee_choices(ticket)
    transition_form.assignee_id.data = str(ticket.assignee_id or current_user.id)
    priority_form = PriorityForm(priority_id=str(ticket.priority_id))
    priority_form.priority_id.choices = ticket_pages.priority_choices(ticket.org_id)
    return render_template(
        "agent/ticket.html", ticket=ticket,
        comments=ticket_pages.visible_comments(ticket, current_user),
        files=attachments.visible_attachments(current_user, ticket),
        comment_form=CommentForm(), transition_form=transition_form, priority_form=priority_form,
        task_form=TaskForm(), actions=tickets.allowed_actions(current_user, ticket),
        statuses=ticket_pages.statuses_by_category(ticket.org_id),
    )


@bp.route("/tickets/<reference>/comments", methods=["POST"])
def comment(reference):
    return ticket_pages.handle_comment(ticket_for(current_user, reference), CommentForm(), "agent.ticket")


@bp.route("/tickets/<reference>/transitions", methods=["POST"])
def transition(reference):
    form = TransitionForm()
    return ticket_pages.handle_transition(ticket_for(current_user, reference), form, "agent.ticket")


@bp.route("/tickets/<reference>/priority", methods=["POST"])
def priority(reference):
    form = PriorityForm()
    return ticket_pages.handle_priority(ticket_for(current_user, reference), form, "agent.ticket")


@bp.route("/tickets/<reference>/tasks", methods=["POST"])
def add_task(reference):
    return ticket_pages.handle_new_task(ticket_for(current_user, reference), TaskForm(), "agent.ticket")
