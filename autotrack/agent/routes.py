from urllib.parse import parse_qsl, urlencode

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from autotrack.agent import bp
from autotrack.extensions import db
from autotrack.models import Priority, Ticket, User, utcnow
from autotrack.services import policy, tickets
from autotrack.services.errors import DomainError, ValidationError
from autotrack.services.sla import timeline as sla_timeline
from autotrack.services.tenancy import get_scoped_optional, parse_id, ticket_for, visible_tickets
from autotrack.services.tickets import attachments, canned, queues, saved_views, watchers
from autotrack.web import ticket_pages
from autotrack.web.queue_args import filter_args
from autotrack.web.ticket_forms import (
    CannedReplyForm,
    CcForm,
    CommentForm,
    LinkForm,
    MergeForm,
    PriorityForm,
    TaskDoneForm,
    TaskForm,
    TransitionForm,
    WatchForm,
)


@bp.route("/")
def home():
    return _queue_page(request.args)


def _queue_page(args, status=200):
    """The queue with the filters in `args` (the page's query, or a refused saved view's)."""
    filters = queues.Filters.parse(current_user, filter_args(args))
    items, next_cursor = queues.page(current_user, filters, args.get("cursor"), now=utcnow())
    return render_template(
        "agent/home.html",
        tickets=items,
        next_cursor=next_cursor,
        filters=filters,
        views=queues.VIEWS,
        sla_states=queues.SLA_STATES,
        statuses=ticket_pages.status_choices(current_user.org_id),
        priorities=ticket_pages.priority_choices(current_user.org_id),
        categories=ticket_pages.category_choices(current_user.org_id),
        assignees=ticket_pages.staff_choices(current_user.org_id),
        bulk_actions=tickets.BULK_ACTIONS,
        saved=saved_views.available(current_user),
        filter_query=urlencode(filters.args),
        my_departments=current_user.memberships,
    ), status


@bp.route("/tickets/<reference>")
def ticket(reference):
    ticket = ticket_for(current_user, reference)
    if reference != ticket.reference:  # a merged duplicate's number, or the number alone
        if reference.split("-")[-1] != str(ticket.number):
            flash(f"{reference} was merged into {ticket.reference}.", "info")
        # The query goes along encoded, never as url_for's keywords (`reference`, `_method`…).
        query = urlencode(list(request.args.items(multi=True)))
        return redirect(url_for("agent.ticket", reference=ticket.reference) + ("?" + query if query else ""))
    ticket_pages.opened(ticket)
    transition_form = TransitionForm()
    transition_form.assignee_id.choices = ticket_pages.assignee_choices(ticket)
    transition_form.assignee_id.data = str(ticket.assignee_id or current_user.id)
    priority_form = PriorityForm(priority_id=str(ticket.priority_id))
    priority_form.priority_id.choices = ticket_pages.priority_choices(ticket.org_id)
    task_form = TaskForm()
    task_form.assignee_id.choices = [("", "— Anyone —")] + ticket_pages.assignee_choices(ticket)
    comment_form = CommentForm()
    if request.args.get("canned"):  # the picker without JavaScript: the reply box filled in
        try:
            comment_form.body.data = canned.fill(current_user, request.args["canned"], ticket)
        except DomainError as error:
            flash(error.message, "warning")
    return render_template(
        "agent/ticket.html",
        ticket=ticket,
        comments=ticket_pages.visible_comments(ticket, current_user),
        files=attachments.visible_attachments(current_user, ticket),
        comment_form=comment_form,
        transition_form=transition_form,
        priority_form=priority_form,
        canned_replies=canned.available(current_user),
        merge_form=MergeForm(),
        link_form=LinkForm(),
        links=tickets.links_of(ticket, current_user),
        watchers=watchers.watchers_of(ticket),
        cc_form=CcForm(),
        task_form=task_form,
        task_done_form=TaskDoneForm(),
        history=ticket_pages.history(ticket),
        now=utcnow(),
        actions=tickets.allowed_actions(current_user, ticket),
        statuses=ticket_pages.statuses_by_category(ticket.org_id),
    )


@bp.route("/tickets/<reference>/sla")
def sla(reference):
    """Why the ticket is due when it is: every clock's steps with their arithmetic, and what the
    sweep did (warnings, breaches, escalation levels, who was told, each email's delivery)."""
    ticket = ticket_for(current_user, reference)
    policy.require(
        current_user, "ticket.sla_timeline", ticket, message="Only staff of the ticket see its SLA timeline."
    )
    return render_template("agent/sla.html", ticket=ticket, timeline=sla_timeline.timeline(ticket, utcnow()))


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


# --- watchers ----------------------------------------------------------------------------------


@bp.route("/tickets/<reference>/follow", methods=["POST"])
def follow(reference):
    return ticket_pages.handle_follow(ticket_for(current_user, reference), WatchForm(), "agent.ticket")


@bp.route("/tickets/<reference>/watchers", methods=["POST"])
def add_cc(reference):
    return ticket_pages.handle_add_cc(ticket_for(current_user, reference), CcForm(), "agent.ticket")


@bp.route("/tickets/<reference>/watchers/<int:user_id>/delete", methods=["POST"])
def remove_watcher(reference, user_id):
    return ticket_pages.handle_remove_watcher(ticket_for(current_user, reference), WatchForm(), user_id, "agent.ticket")


# --- canned replies ------------------------------------------------------------------------------


@bp.route("/tickets/<reference>/canned")
def canned_search(reference):
    """JSON for the reply box's picker: the canned replies the agent may use, matching ?q=."""
    ticket_for(current_user, reference)  # the ticket must be theirs to see
    return jsonify(
        [
            {"id": c.id, "title": c.title, "shared": c.owner_id is None}
            for c in canned.available(current_user, request.args.get("q", ""))
        ]
    )


@bp.route("/tickets/<reference>/canned/<int:canned_id>")
def canned_fill(reference, canned_id):
    """JSON: the canned reply filled in for this ticket (a text that cannot be: 422 with why)."""
    ticket = ticket_for(current_user, reference)
    try:
        return jsonify({"text": canned.fill(current_user, canned_id, ticket)})
    except ValidationError as error:
        return jsonify({"error": {"code": "validation_error", "message": error.message}}), 422


@bp.route("/canned", methods=["GET", "POST"])
def canned_replies():
    """The agent's own canned replies (and, to read, the organization's)."""
    form = CannedReplyForm()
    if form.validate_on_submit():
        try:
            mine = canned.get_for(current_user, form.canned_id.data) if form.canned_id.data else None
            canned.save_own(current_user, form.title.data, form.body.data, mine, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            for name, message in (error.fields or {"body": error.message}).items():
                getattr(form, name, form.body).errors.append(message)
        else:
            db.session.commit()
            flash("Canned reply saved.", "success")
            return redirect(url_for("agent.canned_replies"))
    return render_template(
        "agent/canned.html", form=form, replies=canned.available(current_user), placeholders=canned.PLACEHOLDERS
    ), 400 if form.errors else 200


@bp.route("/canned/<int:canned_id>/delete", methods=["POST"])
def canned_delete(canned_id):
    """One of the agent's own (CSRF is checked app-wide for every POST)."""
    canned.delete_own(current_user, canned.get_for(current_user, canned_id))
    db.session.commit()
    flash("Canned reply deleted.", "success")
    return redirect(url_for("agent.canned_replies"))


# --- merge and link ------------------------------------------------------------------------------


@bp.route("/tickets/<reference>/merge", methods=["POST"])
def merge(reference):
    """Merge this ticket (a duplicate) into the one named in the form; lands on that one."""
    ticket, form = ticket_for(current_user, reference), MergeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"Not merged: {error}", "danger")
        return redirect(url_for("agent.ticket", reference=ticket.reference))
    try:
        target = ticket_for(current_user, form.into.data)
        tickets.merge(current_user, ticket, target, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(f"Not merged: {error.message}", "danger")
        return redirect(url_for("agent.ticket", reference=ticket.reference))
    db.session.commit()
    flash(f"{ticket.reference} was merged into {target.reference}.", "success")
    return redirect(url_for("agent.ticket", reference=target.reference))


@bp.route("/tickets/<reference>/links", methods=["POST"])
def add_link(reference):
    ticket, form = ticket_for(current_user, reference), LinkForm()
    if form.validate_on_submit():
        try:
            tickets.link(current_user, ticket, ticket_for(current_user, form.ticket.data), form.kind.data, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(f"Not linked: {error.message}", "danger")
        else:
            db.session.commit()
            flash("Linked.", "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(f"Not linked: {error}", "danger")
    return redirect(url_for("agent.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/links/<int:link_id>/delete", methods=["POST"])
def remove_link(reference, link_id):
    ticket = ticket_for(current_user, reference)
    tickets.unlink(current_user, ticket, link_id, now=utcnow())
    db.session.commit()
    flash("Link removed.", "success")
    return redirect(url_for("agent.ticket", reference=ticket.reference))


# --- bulk actions --------------------------------------------------------------------------------


@bp.route("/bulk", methods=["POST"])
def bulk():
    """The queue's bulk action: first a confirmation listing the selected tickets, then each
    ticket changed on its own and a result per ticket."""
    ids = [i for i in map(parse_id, request.form.getlist("ids")) if i is not None][: tickets.BULK_MAX]
    selected = db.session.scalars(
        visible_tickets(current_user).where(Ticket.id.in_(ids or [0])).order_by(Ticket.id)
    ).all()  # another organization's ids: not found, not listed
    action = request.form.get("action", "")
    if not selected:
        flash("Select the tickets first.", "warning")
        return redirect(url_for("agent.home"))
    if action not in tickets.BULK_ACTIONS:
        flash("Choose an action.", "warning")
        return redirect(url_for("agent.home"))
    assignee = get_scoped_optional(User, request.form.get("assignee_id"), current_user.org_id)
    priority = get_scoped_optional(Priority, request.form.get("priority_id"), current_user.org_id)
    label = tickets.BULK_ACTIONS[action] + {
        "assign": f" {assignee.name}" if assignee else "",
        "priority": f" {priority.name}" if priority else "",
    }.get(action, "")
    if (action == "assign" and assignee is None) or (action == "priority" and priority is None):
        flash("Choose the " + ("assignee" if action == "assign" else "priority") + " for that action.", "warning")
        return redirect(url_for("agent.home"))
    if not request.form.get("confirmed"):
        return render_template("agent/bulk.html", selected=selected, action=action, label=label, results=None)
    done, skipped = tickets.bulk(current_user, selected, action, assignee=assignee, priority=priority, now=utcnow())
    db.session.commit()
    return render_template("agent/bulk.html", label=label, results={"done": done, "skipped": skipped})


# --- saved views ---------------------------------------------------------------------------------


@bp.route("/views", methods=["POST"])
def save_view():
    """Save the queue's current filters (sent along as the form's `filters`) under a name."""
    filters = MultiDict(parse_qs_flat(request.form.get("filters", "")))
    try:
        view = saved_views.save(
            current_user, request.form.get("name"), filter_args(filters), request.form.get("department_id")
        )
    except DomainError as error:
        db.session.rollback()
        # The queue again, with the filters it knows (never the raw text: it may hold line
        # breaks or anything else), and why the view was not saved.
        detail = next(iter((error.fields or {}).values()), "")
        flash(" ".join(filter(None, ("Not saved:", error.message, detail))), "warning")
        return _queue_page(filters, status=400)
    db.session.commit()
    flash(f"View “{view.name}” saved.", "success")
    return redirect(url_for("agent.home") + "?" + view.query)


@bp.route("/views/<int:view_id>/delete", methods=["POST"])
def delete_view(view_id):
    saved_views.delete(current_user, view_id)
    db.session.commit()
    flash("View deleted.", "success")
    return redirect(url_for("agent.home"))


def parse_qs_flat(query):
    return dict(parse_qsl(query[:1000]))
