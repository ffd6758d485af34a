"""What the API accepts and returns. The same schemas validate requests (webargs) and write
the OpenAPI spec (apispec), so the two cannot drift apart."""

import marshmallow as ma
from marshmallow import fields, validate

from autotrack.models.types import utcnow
from autotrack.services import sla
from autotrack.services.tickets import ACTIONS, queues


class StrictSchema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.RAISE  # a misspelt field is an error, not silently ignored


class ErrorDetail(ma.Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    field_messages = fields.Dict(
        keys=fields.String(),
        data_key="fields",
        metadata={"description": "Messages per field, when fields are at fault."},
    )


class ErrorSchema(ma.Schema):
    """Every error: {"error": {"code", "message", "fields"?}}."""

    error = fields.Nested(ErrorDetail, required=True)


# --- auth ------------------------------------------------------------------------------------


class TokenRequest(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    otp = fields.String(
        validate=validate.Length(min=1, max=20),
        metadata={"description": "The authenticator app's current code, for accounts with two-factor sign-in"},
    )


class TokenResponse(ma.Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds until the token expires."})


class PersonSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)


class MeSchema(PersonSchema):
    role = fields.Function(lambda user: user.role.name, required=True)
    organization = fields.Function(
        lambda user: {"slug": user.organization.slug, "name": user.organization.name}, required=True
    )
    departments = fields.Function(lambda user: sorted(seat.department_name for seat in user.seats), required=True)


# --- tickets ---------------------------------------------------------------------------------


class SlaSchema(ma.Schema):
    state = fields.String(required=True, metadata={"description": "on_track, at_risk, breached, paused, met or missed"})
    label = fields.String(required=True)
    words = fields.String(required=True, metadata={"example": "resolution due in 3 hours 5 minutes"})
    due_at = fields.AwareDateTime(allow_none=True)


class Person(fields.Nested):
    """A user as PersonSchema documents it, written directly: a list page has a hundred of them
    and a nested schema dump per person was a third of the page's time."""

    def __init__(self, **kwargs):
        super().__init__(PersonSchema, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else {"id": value.id, "name": value.name, "email": value.email}


class Sla(fields.Nested):
    """The ticket's SLA badge as SlaSchema documents it (computed, written directly like Person)."""

    def __init__(self, **kwargs):
        super().__init__(SlaSchema, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return sla.status_of(obj, utcnow())

    def _serialize(self, status, attr, obj, **kwargs):
        return {
            "state": status.state,
            "label": status.label,
            "words": status.words,
            "due_at": status.due_at.isoformat() if status.due_at else None,
        }


def _name(attribute):
    return fields.Function(lambda ticket: getattr(getattr(ticket, attribute), "name", None), allow_none=True)


class TicketSchema(ma.Schema):
    class Meta:
        ordered = True

    number = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"example": "ACME-1042"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "new, open, pending, resolved or closed"})
    status = _name("status")
    priority = _name("priority")
    category = fields.Function(lambda t: t.category.path if t.category else None, allow_none=True)
    department = _name("department")
    requester = Person(required=True)
    assignee = Person(allow_none=True)
    escalation_level = fields.Integer(required=True)
    first_response_due_at = fields.AwareDateTime(allow_none=True)
    first_response_at = fields.AwareDateTime(allow_none=True)
    resolution_due_at = fields.AwareDateTime(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    next_response_due_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "The update clock's deadline while the requester waits for an answer"}
    )
    next_response_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the requester's latest message was answered"}
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    sla = Sla(required=True)


def _iso(moment):
    return None if moment is None else moment.isoformat()


def _person(ident, name, email):
    return None if ident is None else {"id": ident, "name": name, "email": email}


class TicketItems(fields.List):
    """A list page's tickets as TicketSchema documents them, written directly from the rows of
    queues.page_rows (one read for the page, no entity per row); tests/api/test_list_cost.py
    keeps each item equal to TicketSchema's dump of the same ticket."""

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(TicketSchema), **kwargs)

    def _serialize(self, rows, attr, obj, **kwargs):
        now = utcnow()
        return [self._item(row, now) for row in rows]

    @staticmethod
    def _item(row, now):
        status = sla.status_of(row, now)
        return {
            "number": row.number,
            "reference": f"{row.ticket_prefix}-{row.number}",
            "title": row.title,
            "description": row.description,
            "state": row.state,
            "status": row.status_name,
            "priority": row.priority_name,
            "category": row.category_path,
            "department": row.department_name,
            "requester": _person(row.requester_id, row.requester_name, row.requester_email),
            "assignee": _person(row.assignee_id, row.assignee_name, row.assignee_email),
            "escalation_level": row.escalation_level,
            "first_response_due_at": _iso(row.first_response_due_at),
            "first_response_at": _iso(row.first_response_at),
            "resolution_due_at": _iso(row.resolution_due_at),
            "resolved_at": _iso(row.resolved_at),
            "next_response_due_at": _iso(row.next_response_due_at),
            "next_response_at": _iso(row.next_response_at),
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
            "sla": {"state": status.state, "label": status.label, "words": status.words, "due_at": _iso(status.due_at)},
        }


class TicketPage(ma.Schema):
    items = TicketItems(required=True)
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as ?cursor= for the next page; null on the last."},
    )


class TicketListArgs(StrictSchema):
    view = fields.String(load_default="all", validate=validate.OneOf(list(queues.VIEWS)))
    status = fields.String(validate=validate.Length(max=80), metadata={"description": "A status name."})
    priority = fields.String(validate=validate.Length(max=40), metadata={"description": "A priority name, e.g. P1."})
    assignee = fields.String(
        validate=validate.Regexp(r"^(none|\d{1,9})$"),
        metadata={"description": "A user id, or none for unassigned tickets."},
    )
    sla = fields.String(validate=validate.OneOf(list(queues.SLA_STATES)))
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "A ticket number, or words."})
    cursor = fields.String(validate=validate.Length(max=80))


class TicketCreate(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=20000))
    category_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    priority = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "A priority name; agents and above only."},
    )


class TicketUpdate(StrictSchema):
    priority = fields.String(validate=validate.Length(min=1, max=40))
    assignee_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    department_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class TransitionRequest(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(list(ACTIONS)))
    assignee_id = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={"description": "Required for assign."}
    )
    status = fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "A specific status of the target state (optional)."},
    )


class CommentCreate(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    internal = fields.Boolean(load_default=False, metadata={"description": "An internal note (staff only)."})


class CommentSchema(ma.Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    internal = fields.Boolean(required=True)
    author = fields.Nested(PersonSchema, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class EventSchema(ma.Schema):
    id = fields.Integer(required=True)
    action = fields.String(required=True)
    actor = fields.Nested(PersonSchema, allow_none=True)
    from_value = fields.String(allow_none=True)
    to_value = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


# --- the SLA timeline -------------------------------------------------------------------------


def _minutes(attribute):
    """A timedelta attribute as minutes (a number), or null."""
    return fields.Function(
        lambda obj: None if getattr(obj, attribute) is None else getattr(obj, attribute).total_seconds() / 60,
        allow_none=True,
        metadata={"type": "number"},
    )


class SlaStepSchema(ma.Schema):
    kind = fields.String(required=True, metadata={"description": "start, pause, resume, retarget or stop"})
    at = fields.AwareDateTime(required=True)
    detail = fields.String(required=True)
    base_at = fields.AwareDateTime(allow_none=True, metadata={"description": "What the arithmetic counts from"})
    working_minutes = _minutes("working")
    calendar = fields.String(allow_none=True, metadata={"description": "business_hours or 24x7"})
    due_at = fields.AwareDateTime(allow_none=True)
    warn_at = fields.AwareDateTime(allow_none=True)
    arithmetic = fields.String(
        required=True,
        metadata={"example": "4 hours of business time from Fri 27 Nov 15:10 = Mon 30 Nov 11:10, skipping the weekend"},
    )
    explained = fields.Boolean(
        required=True,
        metadata={"description": "The calendar gives back this step's due time (false: the calendar was edited since)"},
    )


class SlaDeliverySchema(ma.Schema):
    recipient = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "queued, held, retrying, sent or failed"})
    at = fields.AwareDateTime(allow_none=True)
    error = fields.String(allow_none=True)


class SlaMomentSchema(ma.Schema):
    kind = fields.String(required=True, metadata={"description": "warning, breach or escalation"})
    fired_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(required=True)
    level = fields.Integer(required=True)
    clock = fields.String(required=True)
    cycle = fields.Integer(required=True)
    notified = fields.List(fields.String(), required=True, metadata={"description": "Told in the app"})
    emails = fields.List(fields.Nested(SlaDeliverySchema), required=True)
    overtaken = fields.Boolean(
        required=True,
        metadata={
            "description": "A warning first seen after its deadline had passed (the jobs were down): recorded, "
            "sent to no one; the breach and the escalation levels tell"
        },
    )


class SlaClockSchema(ma.Schema):
    clock = fields.String(required=True, metadata={"description": "first_response, resolution or next_response"})
    cycle = fields.Integer(required=True, metadata={"description": "The update clock's cycle (0 for the others)"})
    state = fields.String(
        required=True, metadata={"description": "running, paused, breached, met, missed, stopped or not due"}
    )
    started_at = fields.AwareDateTime(allow_none=True)
    stopped_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    warn_at = fields.AwareDateTime(allow_none=True)
    target_minutes = _minutes("target")
    counted_minutes = _minutes("counted")
    calendar = fields.String(allow_none=True)
    explained = fields.Boolean(required=True)
    steps = fields.List(fields.Nested(SlaStepSchema), required=True)
    moments = fields.List(fields.Nested(SlaMomentSchema), required=True)


class SlaTimelineSchema(ma.Schema):
    timezone = fields.String(required=True)
    recorded = fields.Boolean(
        required=True, metadata={"description": "False for a ticket raised before AutoTrack recorded its clocks' steps"}
    )
    explained = fields.Boolean(required=True, metadata={"description": "Every stored due time is explained"})
    clocks = fields.List(fields.Nested(SlaClockSchema), required=True)
    escalations = fields.List(fields.Nested(SlaMomentSchema), required=True)


# --- feedback -----------------------------------------------------------------------------------


class FeedbackSchema(ma.Schema):
    asked = fields.Boolean(required=True, metadata={"description": "The requester may rate the resolution now"})
    rating = fields.Integer(allow_none=True, metadata={"description": "1 (poor) to 5 (excellent); null until rated"})
    comment = fields.String(allow_none=True)
    rated_at = fields.AwareDateTime(allow_none=True)


class FeedbackCreate(StrictSchema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


# --- canned replies -------------------------------------------------------------------------------


class CannedReplySchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    shared = fields.Function(
        lambda c: c.owner_id is None,
        required=True,
        metadata={"type": "boolean", "description": "The organization's (else the caller's own)"},
    )


class CannedReplyArgs(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))


class FilledReplySchema(ma.Schema):
    text = fields.String(required=True, metadata={"description": "The canned reply filled in for the ticket"})


# --- merge and link -------------------------------------------------------------------------------


class MergeRequest(StrictSchema):
    into = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The ticket to merge this duplicate into", "example": "ACME-1042"},
    )


class LinkCreate(StrictSchema):
    ticket = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "ACME-1042"})
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["related", "parent", "child"]),
        metadata={"description": "This ticket is related to, the parent of, or the child of the other"},
    )


class LinkSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "related, parent or child, as seen from this ticket"})
    ticket = fields.String(required=True, metadata={"description": "The other ticket's reference"})
    title = fields.String(required=True)


# --- watchers and notification preferences --------------------------------------------------------


class WatcherSchema(ma.Schema):
    user = fields.Nested(PersonSchema, required=True)
    kind = fields.String(required=True, metadata={"description": "follow (staff following) or cc (a copied colleague)"})
    added_at = fields.DateTime(attribute="created_at", required=True)


class WatcherCreate(StrictSchema):
    email = fields.String(
        validate=validate.Length(min=1, max=254),
        metadata={
            "description": "A colleague to copy on the ticket; leave out to follow it yourself (staff)",
            "example": "colleague@acme.example",
        },
    )


class ChannelsSchema(StrictSchema):
    email = fields.Boolean(metadata={"description": "By email (topics never mailed stay false)"})
    in_app = fields.Boolean(metadata={"description": "In the app (the bell and live notices)"})


class PreferencesSchema(StrictSchema):
    my_tickets = fields.Nested(
        ChannelsSchema, metadata={"description": "Replies and status changes on tickets I raised"}
    )
    watched = fields.Nested(
        ChannelsSchema, metadata={"description": "Public updates on tickets I follow or am copied on"}
    )
    work = fields.Nested(ChannelsSchema, metadata={"description": "New tickets in my departments, assignments, tasks"})
