"""Canned replies: organization-wide texts (managed in the console) and each agent's own, with
placeholders such as {{ requester.first_name }}, {{ ticket.number }} or {{ agent.name }}.

A text may hold placeholders and nothing else: no loops, filters, calls or arithmetic (checked
on Jinja's parse tree), so it cannot run away with the CPU or memory. It is rendered by Jinja's
sandbox over plain values only (no model objects), so it can read nothing else either. A text
that breaks these rules is refused when saved, and refused again if it reaches use some other
way, never sent half-rendered. The output is plain text (the reply box).
"""

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import or_, select

from autotrack.extensions import db
from autotrack.models import CannedReply, Perm
from autotrack.services import policy
from autotrack.services.errors import Forbidden, NotFound, ValidationError
from autotrack.services.tenancy import get_scoped

TITLE_MAX = 120
BODY_MAX = 10_000
PLACEHOLDERS = (
    "requester.name",
    "requester.first_name",
    "requester.email",
    "ticket.number",
    "ticket.reference",
    "ticket.title",
    "ticket.status",
    "ticket.priority",
    "ticket.department",
    "agent.name",
    "agent.first_name",
)

_SANDBOX = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, trim_blocks=True)


def _first(name):
    return (name or "").split()[0] if (name or "").split() else ""


def context_for(ticket, agent):
    """What a canned reply may name: plain strings and numbers only."""
    requester = ticket.requester
    return {
        "requester": {"name": requester.name, "first_name": _first(requester.name), "email": requester.email},
        "ticket": {
            "number": ticket.number,
            "reference": ticket.reference,
            "title": ticket.title,
            "status": ticket.status.name,
            "priority": ticket.priority.name,
            "department": ticket.department.name,
        },
        "agent": {"name": agent.name, "first_name": _first(agent.name)},
    }


_SAMPLE = {
    "requester": {"name": "Ada Lovelace", "first_name": "Ada", "email": "ada@example.org"},
    "ticket": {
        "number": 1042,
        "reference": "ACME-1042",
        "title": "Printer jams",
        "status": "Open",
        "priority": "P3",
        "department": "Support",
    },
    "agent": {"name": "Sam Agent", "first_name": "Sam"},
}


def _placeholders_only(tree):
    """Refuse (TemplateError) anything but text and the known {{ name.attribute }} placeholders."""
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            raise TemplateError("only placeholders, no {% … %} blocks")
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                continue
            if not (
                isinstance(node, nodes.Getattr)
                and isinstance(node.node, nodes.Name)
                and f"{node.node.name}.{node.attr}" in PLACEHOLDERS
            ):
                raise TemplateError("an unknown placeholder")


def render(body, context):
    """The text with its placeholders filled; ValidationError if it cannot be."""
    try:
        tree = _SANDBOX.parse(body)
        _placeholders_only(tree)
        return _SANDBOX.from_string(tree).render(context)
    except TemplateError as error:  # SecurityError, UndefinedError and syntax errors are TemplateErrors
        why = f"This canned reply cannot be filled in ({error.message or error})."
        known = ", ".join("{{ " + p + " }}" for p in PLACEHOLDERS)
        raise ValidationError(why, {"body": f"{why} Only these placeholders work: {known}."}) from None


def _clean(title, body):
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title or len(title) > TITLE_MAX:
        errors["title"] = f"A title of 1 to {TITLE_MAX} characters."
    if not body or len(body) > BODY_MAX:
        errors["body"] = f"A text of 1 to {BODY_MAX:,} characters."
    if errors:
        raise ValidationError("The canned reply needs a title and a text.", errors)
    render(body, _SAMPLE)  # refuse what cannot be filled in, at once
    return title, body


def available(user, q=""):
    """The organization's canned replies and the user's own, titles matching `q`, sorted."""
    query = select(CannedReply).where(
        CannedReply.org_id == user.org_id, or_(CannedReply.owner_id.is_(None), CannedReply.owner_id == user.id)
    )
    words = (q or "").split()
    for word in words[:5]:
        query = query.where(
            or_(CannedReply.title.contains(word, autoescape=True), CannedReply.body.contains(word, autoescape=True))
        )
    return db.session.scalars(query.order_by(CannedReply.owner_id.is_(None), CannedReply.title).limit(50)).all()


def get_for(user, canned_id):
    """One the user may use (the organization's, or their own); NotFound otherwise."""
    return get_scoped(
        CannedReply,
        canned_id,
        user.org_id,
        or_(CannedReply.owner_id.is_(None), CannedReply.owner_id == user.id),
        message="No such canned reply.",
    )


def fill(user, canned_id, ticket):
    """The canned reply rendered for `ticket` by `user` (who must be able to reply on it)."""
    policy.require(user, "ticket.comment", ticket, message="You may not reply on this ticket.")
    return render(get_for(user, canned_id).body, context_for(ticket, user))


def save_own(user, title, body, canned=None, *, now):
    """Create or change one of the user's own canned replies."""
    if not user.has_permission(Perm.TICKET_TRANSITION):
        raise Forbidden("Only support staff keep canned replies.")
    title, body = _clean(title, body)
    if canned is None:
        canned = CannedReply(
            org_id=user.org_id, owner_id=user.id, title=title, body=body, created_at=now, updated_at=now
        )
        db.session.add(canned)
    else:
        if canned.owner_id != user.id or canned.org_id != user.org_id:
            raise NotFound("No such canned reply.")
        canned.title, canned.body, canned.updated_at = title, body, now
    db.session.flush()
    return canned


def delete_own(user, canned):
    if canned.owner_id != user.id or canned.org_id != user.org_id:
        raise NotFound("No such canned reply.")
    db.session.delete(canned)
    db.session.flush()


def validate_shared(title, body):
    """The console's check for an organization-wide one."""
    return _clean(title, body)
