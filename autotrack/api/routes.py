"""The API's views: thin, like the portals'. Each checks nothing itself; the ticket services
hold the rules (roles, tenancy, lifecycle) and raise the errors the app turns into JSON."""

from flask import current_app, g, render_template, request
from flask.views import MethodView
from sqlalchemy import select

from autotrack.api import bp
from autotrack.api.schemas import (
    CannedReplyArgs,
    CannedReplySchema,
    CommentCreate,
    CommentSchema,
    EventSchema,
    FeedbackCreate,
    FeedbackSchema,
    FilledReplySchema,
    LinkCreate,
    LinkSchema,
    MergeRequest,
    MeSchema,
    PreferencesSchema,
    SlaTimelineSchema,
    TicketCreate,
    TicketListArgs,
    TicketPage,
    TicketSchema,
    TicketUpdate,
    TokenRequest,
    TokenResponse,
    TransitionRequest,
    WatcherCreate,
    WatcherSchema,
)
from autotrack.extensions import db
from autotrack.models import Department, Priority, Status, User
from autotrack.models.types import utcnow
from autotrack.services import policy, preferences, tickets
from autotrack.services.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from autotrack.services.people import api_tokens
from autotrack.services.sla import timeline as sla_timeline
from autotrack.services.tenancy import get_scoped_optional, ticket_for
from autotrack.services.tickets import canned, feedback, queues, watchers
from autotrack.web.limits import auth_limit
from autotrack.web.queue_args import filter_args

TICKET_ERRORS = (401, 404)


def _errors(*codes):
    """Document these error statuses (the DESIGN.md error body) on an operation."""

    def decorate(view):
        for code in codes:
            view = bp.alt_response(code, schema="Error", description=_WHY[code])(view)
        return view

    return decorate


_WHY = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing, expired or revoked token",
    403: "Your role may not do this",
    404: "No such ticket in your organization",
    409: "Not possible in the ticket's current state",
    422: "The stored text cannot be used",
    429: "Too many requests; see Retry-After",
}


def _by_name(model, name, field):
    """An object of the caller's organization by its name, or a 422 naming the field."""
    if name is None:
        return None
    found = db.session.scalar(select(model).where(model.org_id == g.api_user.org_id, model.name == name.strip()))
    if found is None:
        raise ValidationError(f"Unknown {field} {name!r}.", {field: f"Unknown {field}."})
    return found


def _by_id(model, ident, field):
    """tenancy's scoped lookup, but a body field naming a missing object is a 422 on that
    field, not a 404 of the whole resource."""
    try:
        return get_scoped_optional(model, ident, g.api_user.org_id)
    except NotFound:
        raise ValidationError(f"Unknown {field}.", {field: f"No such {field} in your organization."}) from None


def _new_ticket_category(ident):
    """The category a new ticket names, as `_by_id` finds it, but from the cache of what routes
    new tickets (scoped to the caller's organization there): no query on the create path."""
    if ident is None:
        return None
    found = tickets.category_for_new_ticket(g.api_user.org_id, ident)
    if found is None:
        raise ValidationError("Unknown category_id.", {"category_id": "No such category_id in your organization."})
    return found


# --- auth ------------------------------------------------------------------------------------


@bp.route("/auth/token", endpoint="token", methods=["POST"])
@bp.arguments(TokenRequest)
@bp.response(200, TokenResponse)
@_errors(400, 401, 429)
@bp.doc(security=[])
@auth_limit
def token(credentials):
    """Exchange email and password (and, with two-factor sign-in on, the app's current code) for a
    bearer token."""
    return api_tokens.issue(
        credentials["email"],
        credentials["password"],
        request.remote_addr or "unknown",
        utcnow(),
        otp=credentials.get("otp"),
    )


@bp.route("/me", endpoint="me", methods=["GET"])
@bp.response(200, MeSchema)
@_errors(401)
def me():
    """Who the token belongs to."""
    return g.api_user


@bp.route("/me/notification-preferences", endpoint="preferences")
class Preferences(MethodView):
    @bp.response(200, PreferencesSchema)
    @_errors(401)
    def get(self):
        """What reaches the caller, per topic, by email and in the app (SLA notices always do)."""
        return preferences.for_user(g.api_user)

    @bp.arguments(PreferencesSchema)
    @bp.response(200, PreferencesSchema)
    @_errors(400, 401)
    def put(self, data):
        """Change some topics' channels; what is not named stays as it is."""
        chosen = preferences.save(g.api_user, data)
        db.session.commit()
        return chosen


# --- tickets ---------------------------------------------------------------------------------


@bp.route("/tickets", endpoint="tickets")
class Tickets(MethodView):
    @bp.arguments(TicketListArgs, location="query")
    @bp.response(200, TicketPage)
    @_errors(400, 401)
    def get(self, args):
        """List the tickets you may see.

        Newest first (view=at_risk: soonest deadline first). Keyset pagination: tickets
        created meanwhile never shift the pages you are walking."""
        user = g.api_user
        wanted = {key: value for key, value in args.items() if key not in ("status", "priority", "cursor")}
        if args.get("status"):
            wanted["status"] = str(_by_name(Status, args["status"], "status").id)
        if args.get("priority"):
            wanted["priority"] = str(_by_name(Priority, args["priority"], "priority").id)
        if args.get("assignee") not in (None, "none"):
            _by_id(User, args["assignee"], "assignee")
        items, next_cursor = queues.page_rows(
            user, queues.Filters.parse(user, filter_args(wanted)), args.get("cursor"), now=utcnow()
        )
        return {"items": items, "next_cursor": next_cursor}

    @bp.arguments(TicketCreate)
    @bp.response(201, TicketSchema)
    @_errors(400, 401, 403)
    def post(self, data):
        """Raise a ticket.

        Without a category the organization's default priority and department apply; only
        agents and above may set a priority."""
        ticket = tickets.create_ticket(
            g.api_user,
            title=data["title"],
            description=data["description"],
            category=_new_ticket_category(data.get("category_id")),
            priority=_by_name(Priority, data.get("priority"), "priority"),
            now=utcnow(),
        )
        db.session.commit()
        return ticket


@bp.route("/tickets/<reference>", endpoint="ticket")
class TicketResource(MethodView):
    @bp.response(200, TicketSchema)
    @_errors(*TICKET_ERRORS)
    def get(self, reference):
        """One ticket, by number (1042) or reference (ACME-1042)."""
        return ticket_for(g.api_user, reference)

    @bp.arguments(TicketUpdate)
    @bp.response(200, TicketSchema)
    @_errors(400, 401, 403, 404, 409)
    def patch(self, data, reference):
        """Change the priority, the assignee or the department; all or nothing."""
        user, ticket = g.api_user, ticket_for(g.api_user, reference)
        if "priority" in data:
            tickets.change_priority(user, ticket, _by_name(Priority, data["priority"], "priority"), now=utcnow())
        if "department_id" in data:
            tickets.change_department(
                user, ticket, _by_id(Department, data["department_id"], "department_id"), now=utcnow()
            )
        if "assignee_id" in data:
            tickets.assign(user, ticket, _by_id(User, data["assignee_id"], "assignee_id"), now=utcnow())
        db.session.commit()
        return ticket


@bp.route("/tickets/<reference>/transitions", endpoint="transitions", methods=["POST"])
@bp.arguments(TransitionRequest)
@bp.response(200, TicketSchema)
@_errors(400, 401, 403, 404, 409)
def transition(data, reference):
    """Move the ticket along its lifecycle: assign, wait, resume, resolve, close, reopen."""
    user, ticket = g.api_user, ticket_for(g.api_user, reference)
    tickets.transition(
        user,
        ticket,
        data["action"],
        assignee=_by_id(User, data.get("assignee_id"), "assignee_id"),
        status=_by_name(Status, data.get("status"), "status"),
        now=utcnow(),
    )
    db.session.commit()
    return ticket


@bp.route("/tickets/<reference>/comments", endpoint="comments")
class Comments(MethodView):
    @bp.response(200, CommentSchema(many=True))
    @_errors(*TICKET_ERRORS)
    def get(self, reference):
        """Replies (and, for staff, internal notes), oldest first."""
        return tickets.visible_comments(ticket_for(g.api_user, reference), g.api_user)

    @bp.arguments(CommentCreate)
    @bp.response(201, CommentSchema)
    @_errors(400, 401, 403, 404)
    def post(self, data, reference):
        """Reply, or (staff) add an internal note."""
        ticket = ticket_for(g.api_user, reference)
        comment = tickets.add_comment(g.api_user, ticket, data["body"], internal=data["internal"], now=utcnow())
        db.session.commit()
        return comment


@bp.route("/tickets/<reference>/events", endpoint="events", methods=["GET"])
@bp.response(200, EventSchema(many=True))
@_errors(*TICKET_ERRORS)
def events(reference):
    """The ticket's audit trail, oldest first (requesters see its lifecycle only)."""
    ticket = ticket_for(g.api_user, reference)
    return tickets.history(ticket, g.api_user)


@bp.route("/tickets/<reference>/sla", endpoint="sla", methods=["GET"])
@bp.response(200, SlaTimelineSchema)
@_errors(401, 403, 404)
def sla(reference):
    """The SLA timeline (staff of the ticket): each clock's steps with the arithmetic behind its
    due time, and the warnings, breaches and escalation levels with each email's delivery."""
    ticket = ticket_for(g.api_user, reference)
    policy.require(g.api_user, "ticket.sla_timeline", ticket, message="Only staff of the ticket see its SLA timeline.")
    return sla_timeline.timeline(ticket, utcnow())


@bp.route("/tickets/<reference>/feedback", endpoint="feedback")
class Feedback(MethodView):
    @bp.response(200, FeedbackSchema)
    @_errors(*TICKET_ERRORS)
    def get(self, reference):
        """The requester's rating of the latest resolution, and whether one is asked for now."""
        ticket = ticket_for(g.api_user, reference)
        return _feedback_view(ticket)

    @bp.arguments(FeedbackCreate)
    @bp.response(201, FeedbackSchema)
    @_errors(400, 401, 403, 404, 409)
    def post(self, data, reference):
        """The requester rates the resolved ticket, once (a rating of 2 or less does what the
        organization chose: tell the managers or reopen)."""
        ticket = ticket_for(g.api_user, reference)
        asked = feedback.pending_for(ticket, g.api_user)
        if asked is None:
            if ticket.requester_id != g.api_user.id:
                raise Forbidden("Only the requester rates a ticket.")
            raise InvalidTransition("There is nothing to rate on this ticket now.")
        feedback.rate(asked, data["rating"], data["comment"], now=utcnow())
        db.session.commit()
        return _feedback_view(ticket)


@bp.route("/canned-replies", endpoint="canned_replies", methods=["GET"])
@bp.arguments(CannedReplyArgs, location="query")
@bp.response(200, CannedReplySchema(many=True))
@_errors(401)
def canned_replies(args):
    """The canned replies the caller may use (the organization's and their own), matching ?q=."""
    return canned.available(g.api_user, args["q"])


@bp.route("/tickets/<reference>/canned-replies/<int:canned_id>", endpoint="canned_fill", methods=["GET"])
@bp.response(200, FilledReplySchema)
@_errors(401, 403, 404, 422)
def canned_fill(reference, canned_id):
    """A canned reply filled in for this ticket, ready to post as a comment (422 if it cannot be)."""
    return {"text": canned.fill(g.api_user, canned_id, ticket_for(g.api_user, reference))}


@bp.route("/tickets/<reference>/merge", endpoint="merge", methods=["POST"])
@bp.arguments(MergeRequest)
@bp.response(200, TicketSchema)
@_errors(400, 401, 403, 404, 409)
def merge(data, reference):
    """Merge this ticket (a duplicate of the same requester) into another: its comments, tasks
    and attachments move, it is closed, and its number leads to the other. Answers the other."""
    user = g.api_user
    duplicate = ticket_for(user, reference)
    target = _ticket_field(user, data["into"], "into")
    tickets.merge(user, duplicate, target, now=utcnow())
    db.session.commit()
    return target


@bp.route("/tickets/<reference>/links", endpoint="links")
class Links(MethodView):
    @bp.response(200, LinkSchema(many=True))
    @_errors(*TICKET_ERRORS)
    def get(self, reference):
        """The tickets linked to this one (that the caller may see)."""
        return _links_view(ticket_for(g.api_user, reference))

    @bp.arguments(LinkCreate)
    @bp.response(201, LinkSchema(many=True))
    @_errors(400, 401, 403, 404)
    def post(self, data, reference):
        """Link another ticket: related, or this one its parent or child. Answers every link."""
        ticket = ticket_for(g.api_user, reference)
        tickets.link(
            g.api_user, ticket, _ticket_field(g.api_user, data["ticket"], "ticket"), data["kind"], now=utcnow()
        )
        db.session.commit()
        return _links_view(ticket)


@bp.route("/tickets/<reference>/links/<int:link_id>", endpoint="link", methods=["DELETE"])
@bp.response(204)
@_errors(401, 403, 404)
def unlink(reference, link_id):
    """Remove a link."""
    tickets.unlink(g.api_user, ticket_for(g.api_user, reference), link_id, now=utcnow())
    db.session.commit()


@bp.route("/tickets/<reference>/watchers", endpoint="watchers")
class Watchers(MethodView):
    @bp.response(200, WatcherSchema(many=True))
    @_errors(*TICKET_ERRORS)
    def get(self, reference):
        """Who hears of the ticket's public updates besides its requester and assignee."""
        return watchers.watchers_of(ticket_for(g.api_user, reference))

    @bp.arguments(WatcherCreate)
    @bp.response(201, WatcherSchema(many=True))
    @_errors(400, 401, 403, 404)
    def post(self, data, reference):
        """Follow the ticket (staff; no body needed), or copy a colleague on it by email address
        (the requester or staff): a copied colleague may read and answer it. Answers every watcher."""
        ticket = ticket_for(g.api_user, reference)
        if data.get("email"):
            watchers.add_cc(g.api_user, ticket, data["email"], now=utcnow())
        else:
            watchers.follow(g.api_user, ticket, now=utcnow())
        db.session.commit()
        return watchers.watchers_of(ticket)


@bp.route("/tickets/<reference>/watchers/<int:user_id>", endpoint="watcher", methods=["DELETE"])
@bp.response(204)
@_errors(401, 403, 404)
def remove_watcher(reference, user_id):
    """Stop watching (your own id), or take a watcher off (the requester or staff)."""
    watchers.remove(g.api_user, ticket_for(g.api_user, reference), user_id, now=utcnow())
    db.session.commit()


def _ticket_field(user, reference, field):
    """A ticket named in the body: one the caller cannot see is a 422 on that field."""
    try:
        return ticket_for(user, reference)
    except NotFound:
        raise ValidationError("Unknown ticket.", {field: "No such ticket in your organization."}) from None


def _links_view(ticket):
    return [
        {"id": row.id, "kind": kind, "ticket": other.reference, "title": other.title}
        for row, kind, other in tickets.links_of(ticket, g.api_user)
    ]


def _feedback_view(ticket):
    rated = feedback.latest(ticket)
    return {
        "asked": feedback.pending_for(ticket, g.api_user) is not None,
        "rating": rated.rating if rated else None,
        "comment": rated.comment if rated else None,
        "rated_at": rated.rated_at if rated else None,
    }


def docs():
    """The spec as a page people can read (rendered here: no CDN-hosted viewer). Registered
    on the app in api.init_app, outside the blueprint: it is not an API operation."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", spec=spec)
