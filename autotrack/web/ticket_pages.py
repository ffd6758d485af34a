"""Request handling shared by every portal's ticket page: thin calls into the ticket service."""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import Category, Priority, Status, Task, User
from autotrack.models.types import utcnow
from autotrack.services import notifications, policy, tickets
from autotrack.services.errors import DomainError, NotFound
from autotrack.services.tenancy import get_scoped, get_scoped_optional, parse_id, scoped
from autotrack.services.tickets import attachments, categories, watchers


def category_choices(org_id, user=None):
    """The active categories, for a filter or (with `user`) those the user may raise tickets in."""
    rows = db.session.scalars(
        scoped(Category, org_id).where(Category.is_active.is_(True)).order_by(Category.path)
    ).all()
    allowed = categories.allowed_roots(user) if user is not None else None
    if allowed is not None:
        rows = [c for c in rows if categories.root_of(c).id in allowed]
    return [("", "— Not sure —")] + [(str(c.id), c.display_path) for c in rows]


def category_tree(org_id, user=None):
    """The active categories (those `user` may choose) as nested [{id, name, children}] for the
    cascading select."""
    rows = db.session.scalars(
        scoped(Category, org_id).where(Category.is_active.is_(True)).order_by(Category.depth, Category.name)
    ).all()
    allowed = categories.allowed_roots(user) if user is not None else None
    nodes = {c.id: {"id": c.id, "name": c.name, "children": []} for c in rows}
    roots = []
    for c in rows:  # parents come first (ordered by depth)
        if c.parent_id is None:
            if allowed is None or c.id in allowed:
                roots.append(nodes[c.id])
        elif c.parent_id in nodes:
            nodes[c.parent_id]["children"].append(nodes[c.id])
        # else: under an inactive category, hidden with it
    return roots


def priority_choices(org_id):
    rows = db.session.scalars(scoped(Priority, org_id).order_by(Priority.weight.desc())).all()
    return [(str(p.id), p.name) for p in rows]


def status_choices(org_id):
    rows = db.session.scalars(scoped(Status, org_id).order_by(Status.position, Status.id)).all()
    return [(str(s.id), s.name) for s in rows]


def staff_choices(org_id):
    """Active users who can work tickets (the queue's assignee filter)."""
    return [(str(u.id), u.name) for u in tickets.ticket_workers(org_id)]


def assignee_choices(ticket):
    return [(str(u.id), u.name) for u in tickets.assignable_users(ticket)]


def statuses_by_category(org_id):
    rows = db.session.scalars(scoped(Status, org_id).order_by(Status.position, Status.id)).all()
    grouped = {}
    for status in rows:
        grouped.setdefault(status.category, []).append(status)
    return grouped


def _done(ticket, endpoint, message=None):
    if message:
        flash(message, "success")
    return redirect(url_for(endpoint, reference=ticket.reference))


def _refused(ticket, endpoint, error):
    db.session.rollback()
    flash(error.message, "danger")
    return redirect(url_for(endpoint, reference=ticket.reference))


def handle_comment(ticket, form, endpoint):
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"Reply not sent: {error}", "danger")
        return redirect(url_for(endpoint, reference=ticket.reference))
    try:
        attachments.check_request(ticket, form.attachments.data or [])  # too many: nothing is sent
        comment = tickets.add_comment(
            current_user, ticket, form.body.data, internal=bool(form.internal.data), now=utcnow()
        )
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    refused = attachments.add_many(current_user, ticket, form.attachments.data or [], comment=comment)
    db.session.commit()
    for message in refused:
        flash(f"Not attached: {message}", "warning")
    return _done(ticket, endpoint, "Note added." if form.internal.data else "Reply sent.")


def handle_add_cc(ticket, form, endpoint):
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"Not copied: {error}", "danger")
        return redirect(url_for(endpoint, reference=ticket.reference))
    try:
        row = watchers.add_cc(current_user, ticket, form.email.data, now=utcnow())
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    return _done(ticket, endpoint, f"{row.user.name} is copied on {ticket.reference}.")


def handle_follow(ticket, form, endpoint):
    if not form.validate_on_submit():
        flash("That action could not be read; please try again.", "danger")
        return redirect(url_for(endpoint, reference=ticket.reference))
    try:
        watchers.follow(current_user, ticket, now=utcnow())
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    return _done(ticket, endpoint, f"You follow {ticket.reference}: its updates reach you.")


def handle_remove_watcher(ticket, form, user_id, endpoint):
    """Stop watching (oneself), or take someone off. A copied colleague who leaves can no longer
    open the ticket, so they land on their own list."""
    if not form.validate_on_submit():
        flash("That action could not be read; please try again.", "danger")
        return redirect(url_for(endpoint, reference=ticket.reference))
    try:
        watchers.remove(current_user, ticket, user_id, now=utcnow())
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    if user_id == current_user.id:
        flash(f"You no longer watch {ticket.reference}.", "success")
        if not policy.can(current_user, "ticket.view", ticket):
            return redirect(url_for("auth.index"))
        return redirect(url_for(endpoint, reference=ticket.reference))
    return _done(ticket, endpoint, "Taken off the ticket.")


def handle_transition(ticket, form, endpoint):
    if not form.validate_on_submit():
        flash("That action could not be read; please try again.", "danger")
        return redirect(url_for(endpoint, reference=ticket.reference))
    try:
        assignee = get_scoped_optional(User, form.assignee_id.data, ticket.org_id)
        status = get_scoped_optional(Status, form.status_id.data, ticket.org_id)
        tickets.transition(current_user, ticket, form.action.data, assignee=assignee, status=status, now=utcnow())
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    return _done(ticket, endpoint, f"{ticket.reference} is now {ticket.status.name}.")


def handle_priority(ticket, form, endpoint):
    try:
        if not form.validate_on_submit():
            raise DomainError("Choose a priority.")
        tickets.change_priority(
            current_user, ticket, get_scoped(Priority, form.priority_id.data, ticket.org_id), now=utcnow()
        )
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    return _done(ticket, endpoint, f"Priority is now {ticket.priority.name}.")


def handle_new_task(ticket, form, endpoint):
    try:
        if not form.validate_on_submit():
            raise DomainError("A task needs a title of at most 200 characters and a valid due time.")
        assignee = get_scoped_optional(User, form.assignee_id.data, ticket.org_id)
        due_at = None
        if form.due.data is not None:  # typed in the organization's time zone
            due_at = form.due.data.replace(tzinfo=ZoneInfo(ticket.organization.timezone)).astimezone(UTC)
        tickets.add_task(current_user, ticket, form.title.data, assignee=assignee, due_at=due_at, now=utcnow())
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    return _done(ticket, endpoint, "Task added.")


def handle_task_done(ticket, form, endpoint):
    try:
        task_id = parse_id(form.task_id.data) if form.validate_on_submit() else None
        task = (
            db.session.scalar(select(Task).where(Task.id == task_id, Task.ticket_id == ticket.id)) if task_id else None
        )
        if task is None:
            raise NotFound("No such task on this ticket.")
        tickets.complete_task(current_user, task, done=form.done.data == "1", now=utcnow())
    except DomainError as error:
        return _refused(ticket, endpoint, error)
    db.session.commit()
    return _done(ticket, endpoint, "Task done." if task.done_at else "Task open again.")


visible_comments = tickets.visible_comments  # the API shows the same
history = tickets.history


def opened(ticket):
    """The signed-in user opened `ticket`: the notifications about it are read now (the bell
    the page renders counts without them)."""
    if notifications.mark_ticket_read(current_user, ticket, now=utcnow()):
        db.session.commit()
