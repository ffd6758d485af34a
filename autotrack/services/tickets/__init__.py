"""Tickets: the ticket and everything on it.

- lifecycle.py: the transition table, assignment, priority and department, bulk actions, history;
- create.py (raising a ticket), comments.py, tasks.py, links.py (merge and links);
- attachments, watchers, feedback (ratings after resolution), canned replies, queues (lists,
  filters, search), saved_views, categories, ticket_mail (answerable outgoing mail, threading).

What others react to is announced through services/signals.py (feedback listens to the
lifecycle), never imported both ways. The names below are re-exported for callers
(`tickets.create_ticket(...)`); modules inside the package import each other directly.
"""

from autotrack.services.tickets.comments import COMMENT_MAX, add_comment, visible_comments
from autotrack.services.tickets.create import DESCRIPTION_MAX, TITLE_MAX, create_ticket
from autotrack.services.tickets.defaults import category as category_for_new_ticket
from autotrack.services.tickets.lifecycle import (
    ACTIONS,
    BULK_ACTIONS,
    BULK_MAX,
    PUBLIC_EVENTS,
    TRANSITIONS,
    allowed_actions,
    assign,
    assignable_users,
    bulk,
    can_be_assigned,
    change_department,
    change_priority,
    default_status,
    history,
    reassign_many,
    set_status,
    ticket_workers,
    transition,
)
from autotrack.services.tickets.links import LINK_KINDS, link, links_of, merge, unlink
from autotrack.services.tickets.tasks import add_task, complete_task

__all__ = [
    "ACTIONS",
    "BULK_ACTIONS",
    "BULK_MAX",
    "COMMENT_MAX",
    "DESCRIPTION_MAX",
    "LINK_KINDS",
    "PUBLIC_EVENTS",
    "TITLE_MAX",
    "TRANSITIONS",
    "add_comment",
    "add_task",
    "allowed_actions",
    "assign",
    "assignable_users",
    "bulk",
    "can_be_assigned",
    "category_for_new_ticket",
    "change_department",
    "change_priority",
    "complete_task",
    "create_ticket",
    "default_status",
    "history",
    "link",
    "links_of",
    "merge",
    "reassign_many",
    "set_status",
    "ticket_workers",
    "transition",
    "unlink",
    "visible_comments",
]
