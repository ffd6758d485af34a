from flask import render_template, request
from flask_login import current_user

from autotrack.agent import bp
from autotrack.models import utcnow
from autotrack.services import attachments, policy, queues, sla_timeline, tickets
from autotrack.services.tenancy import ticket_for
from autotrack.web import ticket_pages
from autotrack.web.ticket_forms import CommentForm, PriorityForm, TaskDoneForm, TaskForm, TransitionForm

@bp.route("/")
def home():
    filters = queues.Filters.parse(current_user, request.args)
    items, next_cursor = queues.page(current_user, filters, request.args.get("cursor"))
    return render_template(
        "agent/home.html", tickets=items, next_cursor=next_cursor, filters=filters, views=queues.VIEWS,
        sla_states=queues.SLA_STATES, statuses=ticket_pages.status_choices(current_user.org_id),
        priorities=ticket_pages.priority_choices(current_user.org_id),
        categories=ticket_pages.category_choices(current_user.org_id),
        assignees=ticket_pages.staff_choices(current_user.org_id),
    )


@bp.route("/tickets/<reference>")
def ticket(reference):
    ticket = ticket_for(current_user, reference)
    transition_form = TransitionForm()
    transition_form.assignee_id.choices = ticket_pages.assignee_choices(ticket)
    transition_form.assignee_id.data = str(ticket.assignee_id or current_user.id)
    priority_form = PriorityForm(priority_id=str(ticket.priority_id))
    priority_form.priority_id.choices = ticket_pages.priority_choices(ticket.org_id)
    task_form = TaskForm()
    task_form.assignee_id.choices = [("", "— Anyone —")] + ticket_pages.assignee_choices(ticket)
    return render_template(
        "agent/ticket.html", ticket=ticket,
        comments=ticket_pages.visible_comments(ticket, current_user),
        files=attachments.visible_attachments(current_user, ticket),
        comment_form=CommentForm(), transition_form=transition_form, priority_form=priority_form,
        task_form=task_form, task_done_form=TaskDoneForm(), history=ticket_pages.history(ticket), now=utcnow(),
        actions=tickets.allowed_actions(current_user, ticket),
        statuses=ticket_pages.statuses_by_category(ticket.org_id),
    )


@bp.route("/tickets/<reference>/sla")
def sla(reference):
    """Why the ticket is due when it is: every clock's steps with their arithmetic, and what the
    sweep did (warnings, breaches, escalation levels, who was told, each email's delivery)."""
    ticket = ticket_for(current_user, reference)
    policy.require(current_user, "ticket.sla_timeline", ticket, message="Only staff of the ticket see its SLA timeline.")
    return render_template("agent/sla.html", ticket=ticket, timeline=sla_timeline.timeline(ticket))


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


@bp.route("/tickets/<reference>/tasks/done", methods=["POST"])
def task_done(reference):
    return ticket_pages.handle_task_done(ticket_for(current_user, reference), TaskDoneForm(), "agent.ticket")
