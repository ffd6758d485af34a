"""The ticket service: every change to a ticket goes through here, with its audit event.

Services flush, never commit; the caller (request, job, CLI) commits once.
"""
from sqlalchemy import and_, or_, select, update

from autotrack.extensions import db
from autotrack.models import (
    Attachment,
    AuditEvent,
    Comment,
    Department,
    DepartmentMember,
    Lifecycle,
    MemberRole,
    Organization,
    Perm,
    Priority,
    RolePermission,
    Status,
    Task,
    Ticket,
    TicketLink,
    User,
)
from autotrack.services import audit, categories, policy, signals, sla, ticket_mail, watchers
from autotrack.services.errors import DomainError, InvalidTransition, NotFound, ValidationError
from autotrack.services.tenancy import parse_id
from autotrack.services.notifications import notify

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000

# action -> (lifecycle categories it may start from, category it leads to; None keeps the state)
TRANSITIONS = {
    "assign": ({Lifecycle.NEW, Lifecycle.OPEN, Lifecycle.PENDING}, None),
    "wait": ({Lifecycle.OPEN}, Lifecycle.PENDING),
    "resume": ({Lifecycle.PENDING}, Lifecycle.OPEN),
    "resolve": ({Lifecycle.NEW, Lifecycle.OPEN}, Lifecycle.RESOLVED),
    "close": ({Lifecycle.RESOLVED}, Lifecycle.CLOSED),
    "reopen": ({Lifecycle.RESOLVED}, Lifecycle.OPEN),
}

_ACTION_WORDS = {
    "assign": "assigned", "wait": "set to pending", "resume": "resumed", "resolve": "resolved",
    "close": "closed", "reopen": "reopened",
}


def allowed_actions(user, ticket):
    """The transitions `user` may take on `ticket` now, for buttons and API hints."""
    return [
        action for action, (sources, _) in TRANSITIONS.items()
        if ticket.state in sources and policy.can(user, f"ticket.transition.{action}", ticket)
    ]


# --- creating ---------------------------------------------------------------------------------

def _clean_text(value, field, max_len, required=True):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"{field.capitalize()} is required.", {field: "This field is required."})
    if len(value) > max_len:
        raise ValidationError(
            f"{field.capitalize()} is too long.", {field: f"At most {max_len} characters."}
        )
    return value


def _default_of(model, org_id):
    return db.session.scalar(
        select(model).where(model.org_id == org_id, model.is_default.is_(True)).order_by(model.id).limit(1)
    )


def default_status(org_id, category):
    """The status a ticket lands on when it enters a lifecycle category."""
    status = db.session.scalar(
        select(Status)
        .where(Status.org_id == org_id, Status.category == category)
        .order_by(Status.is_default.desc(), Status.position, Status.id)
        .limit(1)
    )
    if status is None:
        raise ValidationError(f"The organization has no status for the {category!r} category.")
    return status


def _next_number(org_id):
    # The UPDATE takes the organization row's lock until commit, so concurrent creators queue
    # here and each reads its own number; the unique (org_id, number) key backs this up.
    db.session.execute(
        update(Organization).where(Organization.id == org_id)
        .values(ticket_seq=Organization.ticket_seq + 1)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalar(select(Organization.ticket_seq).where(Organization.id == org_id))


def create_ticket(actor, *, title, description="", category=None, priority=None, department=None,
                  requester=None, source="web", routed_to=None, now):
    """Open a new ticket; category defaults route it and set its priority (most specific wins).

    Only staff may pick a priority, a department or raise a ticket for someone else. `routed_to`
    is the department the channel serves (a mailbox's), used when no category routes the ticket.
    """
    policy.require(actor, "ticket.create", message="You may not raise tickets.")
    org_id = actor.org_id
    title = _clean_text(title, "title", TITLE_MAX)
    description = _clean_text(description, "description", DESCRIPTION_MAX, required=False)
    staff = policy.can(actor, "ticket.create_on_behalf")

    for obj, field in ((category, "category"), (priority, "priority"), (department, "department"),
                       (requester, "requester")):
        if obj is not None and obj.org_id != org_id:
            raise ValidationError(f"Unknown {field}.", {field: f"Unknown {field}."})
    if priority is not None and not staff:
        raise ValidationError("Only support staff may set the priority.", {"priority": "Not allowed."})
    if department is not None and not staff:
        raise ValidationError("Only support staff may choose the department.", {"department": "Not allowed."})
    if requester is not None and requester.id != actor.id and not staff:
        raise ValidationError("You may only raise tickets for yourself.", {"requester": "Not allowed."})
    if category is not None and not category.is_active:
        raise ValidationError("That category is no longer in use.", {"category": "Choose another category."})
    categories.check_choosable(actor, category)

    lineage = list(category.lineage()) if category is not None else []
    if priority is None:
        priority = next((c.default_priority for c in lineage
                         if c.default_priority is not None and c.default_priority.org_id == org_id), None)
    if department is None:
        department = next((c.default_department for c in lineage
                           if c.default_department is not None and c.default_department.org_id == org_id), None)
    priority = priority or _default_of(Priority, org_id)
    if routed_to is not None and routed_to.org_id == org_id:
        department = department or routed_to
    department = department or _default_of(Department, org_id)
    if priority is None or department is None:
        raise ValidationError("The organization has no default priority or department configured.")

    status = default_status(org_id, Lifecycle.NEW)
    ticket = Ticket(
        org_id=org_id, title=title, description=description,
        requester=requester or actor, department=department, category=category, priority=priority,
        status=status, state=status.category, source=source, created_at=now, updated_at=now,
    )
    sla.start_clocks(ticket, now)  # still outside the session: its queries cannot flush it unnumbered
    staff_ids = _department_staff_ids(department.id)
    # Numbering locks the organization's row until commit and so queues every other ticket
    # being raised in it: take the number last, when only the writes remain.
    ticket.number = _next_number(org_id)
    db.session.add(ticket)
    db.session.flush()
    audit.record(org_id, "create", actor=actor, ticket=ticket, to_value=status.name,
                 detail=f"priority {priority.name}, department {department.name}", now=now)
    notify(staff_ids, org_id=org_id, kind="new_ticket", ticket=ticket, topic="work",
           message=f"New ticket {ticket.reference}: {title}", skip_user_id=actor.id, now=now)
    return ticket


def _department_staff_ids(department_id, role=MemberRole.AGENT):
    return db.session.scalars(
        select(DepartmentMember.user_id)
        .join(User, User.id == DepartmentMember.user_id)
        .where(DepartmentMember.department_id == department_id, DepartmentMember.role == role,
               User.active.is_(True))
    ).all()


# --- lifecycle --------------------------------------------------------------------------------

def can_be_assigned(ticket, user):
    """Active agents and managers of the ticket's department, or staff who serve every department."""
    return (
        user.org_id == ticket.org_id
        and user.is_active
        and policy.serves_department(user, ticket.department_id)
        and user.has_permission(Perm.TICKET_TRANSITION)
    )


def ticket_workers(org_id):
    """Active users of the organization whose role may work tickets (any department)."""
    return db.session.scalars(
        select(User).join(RolePermission, RolePermission.role_id == User.role_id)
        .where(User.org_id == org_id, User.active.is_(True), RolePermission.permission == Perm.TICKET_TRANSITION)
        .order_by(User.name)
    ).all()


def assignable_users(ticket):
    """The users `can_be_assigned` accepts, in one query (the assignee dropdown of every ticket
    page; checking each user of a large organization in Python would load their memberships one
    by one)."""
    def has(permission):
        return select(RolePermission.role_id).where(RolePermission.permission == permission)

    in_department = select(DepartmentMember.user_id).where(DepartmentMember.department_id == ticket.department_id)
    return db.session.scalars(
        select(User)
        .where(User.org_id == ticket.org_id, User.active.is_(True),
               User.role_id.in_(has(Perm.TICKET_TRANSITION)),
               or_(User.role_id.in_(has(Perm.TICKET_VIEW_ALL)),
                   and_(User.role_id.in_(has(Perm.TICKET_VIEW_DEPARTMENT)), User.id.in_(in_department))))
        .order_by(User.name)
    ).all()


def transition(actor, ticket, action, *, assignee=None, status=None, now):
    """Move `ticket` along its lifecycle; refuses (changing nothing) what is not allowed.

    `status` optionally picks a specific status of the target lifecycle category.
    """
    if action not in TRANSITIONS:
        raise ValidationError(f"Unknown action {action!r}.", {"action": "Unknown action."})
    policy.require(actor, f"ticket.transition.{action}", ticket,
                   message=f"You may not {action} this ticket.")
    return _transition(actor, ticket, action, assignee=assignee, status=status, now=now)


def _transition(actor, ticket, action, *, assignee=None, status=None, now):
    """A transition once the actor's permission is settled (by policy, or by a rule such as a
    requester's reply resuming a pending ticket)."""
    sources, target = TRANSITIONS[action]
    if ticket.state not in sources:
        raise InvalidTransition(
            f"Cannot {action} ticket {ticket.reference}: it is {ticket.status.name} ({ticket.state})."
        )

    if action == "assign":
        if assignee is None:
            raise ValidationError("Choose who to assign the ticket to.", {"assignee": "Required."})
        if not can_be_assigned(ticket, assignee):
            raise ValidationError(
                f"{assignee.name} cannot work on tickets of {ticket.department.name}.",
                {"assignee": "Not an agent of this ticket's department."},
            )
        target = Lifecycle.OPEN if ticket.state == Lifecycle.NEW else None  # reassigning keeps the state
    new_status = _target_status(ticket.org_id, target, status) if target else None

    # Everything is validated; from here on the change happens as a whole.
    if action == "assign":
        _set_assignee(actor, ticket, assignee, now)
        if new_status is None:
            ticket.updated_at = now
            db.session.flush()
            return ticket
    old_status = ticket.status
    ticket.status = new_status
    ticket.state = new_status.category
    ticket.updated_at = now
    if action == "wait":
        sla.pause_clocks(ticket, now)
    elif action == "resume":
        paused_since, ticket.paused_at = ticket.paused_at, None
        sla.resume_clocks(ticket, paused_since, now, "resumed")
    elif action == "resolve":
        sla.resolve_clocks(ticket, now)
    elif action == "close":
        ticket.closed_at = now
    elif action == "reopen":
        # The resolution clock restarts from where it stood when the ticket was resolved.
        resolved_since, ticket.resolved_at = ticket.resolved_at, None
        sla.resume_clocks(ticket, resolved_since, now, "reopened")
    sla.refresh_next_check(ticket)
    event = audit.record(ticket.org_id, "transition", actor=actor, ticket=ticket,
                         from_value=old_status.name, to_value=new_status.name, detail=action, now=now)
    # On resolve, feedback asks for a rating (the resolution email, with its rating links).
    signals.ticket_status_changed.send(ticket, action=action, actor=actor, now=now)
    message = f"{ticket.reference} was {_ACTION_WORDS[action]} by {actor.name}"
    _tell_requester_and_assignee(ticket, actor, "status", message, now)
    db.session.flush()
    watchers.tell(ticket, actor, f"{message} (now {new_status.name}).", key=f"event:{event.id}", now=now)
    return ticket


def _tell_requester_and_assignee(ticket, actor, kind, message, now):
    """In-app notices of a change: the requester's as their own tickets' (`my_tickets`), the
    assignee's as their work; each as their preferences allow."""
    notify([ticket.requester_id], org_id=ticket.org_id, kind=kind, ticket=ticket, topic="my_tickets",
           skip_user_id=actor.id, message=message, now=now)
    if ticket.assignee_id != ticket.requester_id:
        notify([ticket.assignee_id], org_id=ticket.org_id, kind=kind, ticket=ticket, topic="work",
               skip_user_id=actor.id, message=message, now=now)


def _target_status(org_id, category, status):
    if status is None:
        return default_status(org_id, category)
    if status.org_id != org_id or status.category != category:
        raise ValidationError(
            f"Status {status.name!r} is not a {category} status.", {"status": "Wrong status for this action."}
        )
    return status


def _set_assignee(actor, ticket, assignee, now):
    previous = ticket.assignee
    ticket.assignee = assignee
    audit.record(ticket.org_id, "assign", actor=actor, ticket=ticket,
                 from_value=previous.name if previous else None, to_value=assignee.name, now=now)
    notify([assignee.id], org_id=ticket.org_id, kind="assigned", ticket=ticket, skip_user_id=actor.id,
           topic="work", message=f"{ticket.reference} was assigned to you: {ticket.title}", now=now)


def assign(actor, ticket, assignee, *, now):
    """Assign (or reassign) a ticket; a new ticket becomes open."""
    return transition(actor, ticket, "assign", assignee=assignee, now=now)


def set_status(actor, ticket, status, *, now):
    """Switch to another status of the same lifecycle category (e.g. 'Waiting on vendor')."""
    policy.require(actor, "ticket.transition.resolve", ticket, message="You may not change the status.")
    if status.org_id != ticket.org_id or status.category != ticket.state:
        raise InvalidTransition(
            f"{status.name!r} is a {status.category} status; use a transition to leave {ticket.state}."
        )
    if status.id == ticket.status_id:
        return ticket
    old = ticket.status
    ticket.status = status
    ticket.updated_at = now
    audit.record(ticket.org_id, "status", actor=actor, ticket=ticket, from_value=old.name,
                 to_value=status.name, now=now)
    db.session.flush()
    return ticket


# --- other changes ----------------------------------------------------------------------------

def add_comment(actor, ticket, body, *, internal=False, email_text=None, now):
    """Add a public reply or an internal note (portal, API or mail alike).

    The first public staff reply is the first response, every public staff reply answers the
    requester on the update clock and is mailed to them (they may answer it by mail). The
    requester's reply (or a copied colleague's) ends the wait it answers (a pending ticket
    resumes, a resolved one reopens if the requester wrote) and starts the update clock again.
    Watchers hear of every public reply.
    `email_text` is the whole mail a reply by mail came from."""
    policy.require(actor, "ticket.comment", ticket, message="You may not comment on this ticket.")
    if internal:
        policy.require(actor, "ticket.comment_internal", ticket, message="You may not add internal notes.")
    body = _clean_text(body, "body", COMMENT_MAX)
    comment = Comment(org_id=ticket.org_id, ticket=ticket, author_id=actor.id, author=actor, body=body,
                      internal=bool(internal), email_text=email_text, created_at=now)
    db.session.add(comment)
    ticket.updated_at = now
    by_staff = actor.id != ticket.requester_id and policy.can(actor, "ticket.transition.resolve", ticket)
    if by_staff and not internal:
        sla.staff_replied(ticket, now)
    db.session.flush()
    audit.record(ticket.org_id, "comment", actor=actor, ticket=ticket,
                 detail="internal note" if internal else "public reply", now=now)
    message = f"{actor.name} commented on {ticket.reference}"
    if internal:
        notify([ticket.assignee_id], org_id=ticket.org_id, kind="comment", ticket=ticket, topic="work",
               skip_user_id=actor.id, message=message, now=now)
    else:
        _tell_requester_and_assignee(ticket, actor, "comment", message, now)
        watchers.tell(ticket, actor, f"{actor.name} replied on {ticket.reference}:", key=f"comment:{comment.id}",
                      text=body, now=now)
    if internal:
        return comment
    if actor.id != ticket.requester_id:
        ticket_mail.queue_reply(comment, now=now)  # staff's, or a copied colleague's
    if not by_staff:  # the requester's side: the requester, or a colleague they copied
        if ticket.state == Lifecycle.PENDING:
            _transition(actor, ticket, "resume", now=now)  # what the ticket was waiting for has come
        elif ticket.state == Lifecycle.RESOLVED and actor.id == ticket.requester_id:
            transition(actor, ticket, "reopen", now=now)  # only the requester reopens
        if ticket.state in sla.TICKING_STATES:
            sla.requester_wrote(ticket, now)  # the update clock: an answer is owed again
    return comment


def change_priority(actor, ticket, priority, *, now):
    """Change the priority; the running SLA clocks keep the working time already spent."""
    policy.require(actor, "ticket.change_priority", ticket, message="You may not change the priority.")
    if priority.org_id != ticket.org_id:
        raise ValidationError("Unknown priority.", {"priority": "Unknown priority."})
    if ticket.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{ticket.reference} is closed; its priority can no longer change.")
    if priority.id == ticket.priority_id:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    ticket.updated_at = now
    sla.change_priority(ticket, old, now)
    audit.record(ticket.org_id, "priority", actor=actor, ticket=ticket, from_value=old.name,
                 to_value=priority.name, now=now)
    db.session.flush()
    return ticket


def change_department(actor, ticket, department, *, now):
    """Route the ticket to another department; an assignee who cannot work there is removed."""
    policy.require(actor, "ticket.change_department", ticket, message="You may not move this ticket.")
    if department.org_id != ticket.org_id:
        raise ValidationError("Unknown department.", {"department": "Unknown department."})
    if ticket.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{ticket.reference} is closed.")
    if department.id == ticket.department_id:
        return ticket
    old = ticket.department
    ticket.department = department
    ticket.updated_at = now
    audit.record(ticket.org_id, "department", actor=actor, ticket=ticket, from_value=old.name,
                 to_value=department.name, now=now)
    if ticket.assignee is not None and not can_be_assigned(ticket, ticket.assignee):
        audit.record(ticket.org_id, "assign", actor=actor, ticket=ticket,
                     from_value=ticket.assignee.name, to_value=None, detail="left the department", now=now)
        ticket.assignee = None
    notify(_department_staff_ids(department.id), org_id=ticket.org_id, kind="new_ticket", ticket=ticket, topic="work",
           message=f"{ticket.reference} moved to {department.name}", skip_user_id=actor.id, now=now)
    db.session.flush()
    return ticket


def add_task(actor, ticket, title, *, assignee=None, due_at=None, now):
    """Add a to-do to the ticket."""
    policy.require(actor, "ticket.manage_tasks", ticket, message="You may not add tasks.")
    title = _clean_text(title, "title", TITLE_MAX)
    if assignee is not None and not can_be_assigned(ticket, assignee):
        raise ValidationError(f"{assignee.name} cannot work on this ticket.", {"assignee": "Not allowed."})
    task = Task(org_id=ticket.org_id, ticket=ticket, title=title, assignee=assignee, due_at=due_at,
                created_by_id=actor.id, created_at=now)
    db.session.add(task)
    db.session.flush()
    audit.record(ticket.org_id, "task_add", actor=actor, ticket=ticket, to_value=title, now=now)
    if assignee is not None:
        notify([assignee.id], org_id=ticket.org_id, kind="task", ticket=ticket, skip_user_id=actor.id, topic="work",
               message=f"Task on {ticket.reference}: {title}", now=now)
    return task


def complete_task(actor, task, done=True, *, now):
    """Mark a task done (or not done again)."""
    policy.require(actor, "ticket.manage_tasks", task.ticket, message="You may not change tasks.")
    if bool(task.done_at) == done:
        return task
    task.done_at = now if done else None
    audit.record(task.org_id, "task_done" if done else "task_undone", actor=actor, ticket=task.ticket,
                 to_value=task.title, now=now)
    db.session.flush()
    return task



BULK_ACTIONS = {"assign": "Assign to", "priority": "Set the priority to", "resolve": "Resolve",
                "wait": "Set to pending", "resume": "Resume", "close": "Close", "reopen": "Reopen"}
BULK_MAX = 500  # the console reassigns up to 500 at once


def bulk(actor, tickets, action, *, assignee=None, priority=None, now):
    """Apply one action to many tickets (the queue's bulk actions), each in its own savepoint, so
    one refusal leaves the others done. Returns (done tickets, [(ticket, reason)] skipped)."""
    if action not in BULK_ACTIONS:
        raise ValidationError("Choose an action.", {"action": "Unknown action."})
    if len(tickets) > BULK_MAX:
        raise ValidationError(f"At most {BULK_MAX} tickets at once.", {"ids": "Too many tickets."})
    if action == "assign" and assignee is None:
        raise ValidationError("Choose who to assign the tickets to.", {"assignee_id": "Required."})
    if action == "priority" and priority is None:
        raise ValidationError("Choose the priority.", {"priority_id": "Required."})
    done, skipped = [], []
    for ticket in tickets:
        if action == "assign" and ticket.assignee_id == assignee.id:
            skipped.append((ticket, f"already assigned to {assignee.name}"))
            continue
        try:
            with db.session.begin_nested():
                if action == "assign":
                    assign(actor, ticket, assignee, now=now)
                elif action == "priority":
                    change_priority(actor, ticket, priority, now=now)
                else:
                    transition(actor, ticket, action, now=now)
        except DomainError as error:
            skipped.append((ticket, error.message))
        else:
            done.append(ticket)
    return done, skipped


def reassign_many(actor, tickets, assignee, *, now):
    """Assign each ticket to `assignee` where the rules allow it (e.g. everything of an agent
    who left); see `bulk`."""
    return bulk(actor, tickets, "assign", assignee=assignee, now=now)


# --- merge and link -----------------------------------------------------------------------------

LINK_KINDS = {"related": "related to", "parent": "parent of", "child": "child of"}


def merge(actor, duplicate, target, *, now):
    """Merge `duplicate` into `target` (one organization): its comments, tasks, attachments and
    watchers move over (its requester, if another, is copied on the target and so keeps reading
    it), it is closed pointing at the target, and its number leads there.
    The audit trail is append-only, so nothing of it moves: the target's history reads both."""
    for ticket in (duplicate, target):
        policy.require(actor, "ticket.merge", ticket, message=f"You may not merge {ticket.reference}.")
    if duplicate.org_id != target.org_id:
        raise ValidationError("Unknown ticket.", {"into": "No such ticket in your organization."})
    if duplicate.id == target.id:
        raise ValidationError("A ticket cannot be merged into itself.", {"into": "Choose another ticket."})
    if target.merged_into_id is not None or target.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{target.reference} is closed; merge into an open ticket.")
    if duplicate.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{duplicate.reference} is closed already.")
    for model in (Comment, Task, Attachment):
        db.session.execute(update(model).where(model.ticket_id == duplicate.id).values(ticket_id=target.id)
                           .execution_options(synchronize_session=False))
    watchers.move(duplicate, target, now=now)  # and the duplicate's requester, if another, copied on the target
    db.session.expire(target, ["comments", "tasks", "attachments"])
    db.session.expire(duplicate, ["comments", "tasks", "attachments"])
    signals.ticket_merged.send(duplicate, target=target, actor=actor, now=now)  # feedback withdraws its request
    closed = default_status(duplicate.org_id, Lifecycle.CLOSED)
    old_status = duplicate.status
    duplicate.status, duplicate.state, duplicate.merged_into_id = closed, closed.category, target.id
    duplicate.closed_at, duplicate.paused_at, duplicate.updated_at = now, None, now
    duplicate.resolved_at = duplicate.resolved_at or now
    sla.stop_update_cycle(duplicate, now, f"merged into {target.reference}")
    sla.refresh_next_check(duplicate)
    target.updated_at = now
    audit.record(duplicate.org_id, "merge", actor=actor, ticket=duplicate, from_value=old_status.name,
                 to_value=target.reference, detail=f"merged into {target.reference}", now=now)
    audit.record(target.org_id, "merge", actor=actor, ticket=target, from_value=duplicate.reference,
                 detail=f"{duplicate.reference} merged into this ticket", now=now)
    notify([target.requester_id, duplicate.requester_id, target.assignee_id, duplicate.assignee_id],
           org_id=target.org_id, kind="status",
           ticket=target, skip_user_id=actor.id, now=now,
           message=f"{duplicate.reference} was merged into {target.reference} by {actor.name}")
    db.session.flush()
    return target


def link(actor, ticket, other, kind, *, now):
    """Link two tickets of one organization: related, or `ticket` the parent / child of `other`."""
    if kind not in LINK_KINDS:
        raise ValidationError("Choose related, parent or child.", {"kind": "Not a kind of link."})
    for each in (ticket, other):
        policy.require(actor, "ticket.link", each, message=f"You may not link {each.reference}.")
    if ticket.org_id != other.org_id:
        raise ValidationError("Unknown ticket.", {"ticket": "No such ticket in your organization."})
    if ticket.id == other.id:
        raise ValidationError("A ticket cannot be linked to itself.", {"ticket": "Choose another ticket."})
    pair = (ticket.id, other.id)
    existing = db.session.scalar(select(TicketLink.id).where(
        or_(and_(TicketLink.from_ticket_id == pair[0], TicketLink.to_ticket_id == pair[1]),
            and_(TicketLink.from_ticket_id == pair[1], TicketLink.to_ticket_id == pair[0]))))
    if existing is not None:
        raise ValidationError(f"{ticket.reference} and {other.reference} are linked already.",
                              {"ticket": "Linked already."})
    parent, child = (other, ticket) if kind == "child" else (ticket, other)
    row = TicketLink(org_id=ticket.org_id, from_ticket_id=parent.id, to_ticket_id=child.id,
                     kind="related" if kind == "related" else "parent", created_by_id=actor.id, created_at=now)
    db.session.add(row)
    for one, two in ((ticket, other), (other, ticket)):
        audit.record(one.org_id, "link", actor=actor, ticket=one, to_value=two.reference,
                     detail=f"{one.reference} {LINK_KINDS[_kind_from(row, one)]} {two.reference}", now=now)
    db.session.flush()
    return row


def unlink(actor, ticket, link_id, *, now):
    ident = parse_id(link_id)
    row = db.session.get(TicketLink, ident) if ident is not None else None
    if row is None or row.org_id != ticket.org_id or ticket.id not in (row.from_ticket_id, row.to_ticket_id):
        raise NotFound("No such link on this ticket.")
    policy.require(actor, "ticket.link", ticket, message="You may not unlink tickets.")
    other = row.to_ticket if row.from_ticket_id == ticket.id else row.from_ticket
    for one, two in ((ticket, other), (other, ticket)):
        audit.record(one.org_id, "unlink", actor=actor, ticket=one, to_value=two.reference, now=now)
    db.session.delete(row)
    db.session.flush()


def _kind_from(row, ticket):
    """The link as seen from `ticket`: related, parent (of the other) or child (of the other)."""
    if row.kind == "related":
        return "related"
    return "parent" if row.from_ticket_id == ticket.id else "child"


def links_of(ticket, user):
    """[(link, kind as seen from `ticket`, the other ticket)] that `user` may see."""
    rows = db.session.scalars(select(TicketLink).where(
        TicketLink.org_id == ticket.org_id,
        or_(TicketLink.from_ticket_id == ticket.id, TicketLink.to_ticket_id == ticket.id)).order_by(TicketLink.id)).all()
    out = []
    for row in rows:
        other = row.to_ticket if row.from_ticket_id == ticket.id else row.from_ticket
        if policy.can(user, "ticket.view", other):
            out.append((row, _kind_from(row, ticket), other))
    return out


def visible_comments(ticket, user):
    """Requesters see public replies only; staff also see internal notes."""
    query = select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
    if not policy.can(user, "ticket.see_internal", ticket):
        query = query.where(Comment.internal.is_(False))
    return db.session.scalars(query).all()


# What a requester's timeline shows; staff see every event (notes, tasks, reassignments).
PUBLIC_EVENTS = ("create", "transition")


def history(ticket, user=None):
    """The ticket's audit trail, oldest first, as far as `user` may see it (None: all of it)."""
    merged = select(Ticket.id).where(Ticket.merged_into_id == ticket.id, Ticket.org_id == ticket.org_id)
    query = select(AuditEvent).where(or_(AuditEvent.ticket_id == ticket.id, AuditEvent.ticket_id.in_(merged))) \
        .order_by(AuditEvent.id)
    if user is not None and not policy.can(user, "ticket.see_internal", ticket):
        query = query.where(AuditEvent.action.in_(PUBLIC_EVENTS))
    return db.session.scalars(query).all()

