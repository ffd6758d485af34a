"""What every web face shares: the portal guard, home pages, error pages, template helpers."""

import re
from zoneinfo import ZoneInfo

from flask import abort, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from autotrack.extensions import db
from autotrack.models import Portal, utcnow
from autotrack.services import live, notifications, policy, sla, urls
from autotrack.services.errors import DomainError
from autotrack.services.timefmt import duration_words
from autotrack.web import origin
from autotrack.web.redirects import is_local_path

PORTAL_HOME = {
    Portal.ADMIN: "admin.index",
    Portal.MANAGER: "manager.home",
    Portal.AGENT: "agent.home",
    Portal.EMPLOYEE: "portal.home",
}

# Which capability opens which portal; checked in each blueprint's before_request.
PORTAL_ACCESS = {
    "portal": "portal.employee",
    "agent": "portal.agent",
    "manager": "portal.manager",
    "admin": "portal.admin",
}


def home_url(user):
    """Each role lands on its own home."""
    return url_for(PORTAL_HOME.get(user.portal, "portal.home"))


def ticket_endpoint(user, ticket=None):
    """Where `user` opens `ticket` (or tickets in general): the rule of `policy.ticket_portal`,
    which the emails' links follow too."""
    return urls.ticket_endpoint(user, ticket)


def ticket_url(user, ticket):
    return url_for(ticket_endpoint(user, ticket), reference=ticket.reference)


def _unread_notifications():
    """The bell's number, asked for by the page layout; an error page must render even when
    the database is what failed."""
    if not current_user.is_authenticated:
        return 0
    try:
        return notifications.unread_count(current_user)
    except SQLAlchemyError:
        db.session.rollback()
        return 0


def _latest_notification_id():
    """Where the page's live stream starts: nothing committed after the page was drawn is missed."""
    try:
        return live.latest_id(current_user.id) if current_user.is_authenticated else 0
    except SQLAlchemyError:
        db.session.rollback()
        return 0


def is_safe_next(target):
    """Only local paths are followed after login (no open redirects): the one check, shared
    with the console's return addresses, lives in web/redirects.py."""
    return is_local_path(target)


def guard_portal(portal):
    """A before_request hook: sign-in required, then the portal's capability, else 403."""

    def check():
        if not current_user.is_authenticated:
            from autotrack.extensions import login_manager

            return login_manager.unauthorized()
        if not policy.can(current_user, PORTAL_ACCESS[portal]):
            abort(403)

    return check


def wants_json():
    return request.path.startswith("/api/")


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        if error.status == 403:
            origin.record_denied(error.message)
        headers = {"Retry-After": str(error.retry_after)} if getattr(error, "retry_after", None) else {}
        if wants_json():
            return jsonify(error.to_dict()), error.status, headers
        return render_template("errors/error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(StaleDataError)
    def concurrent_change(error):
        db.session.rollback()
        message = "Someone else changed this ticket at the same moment. Reload the page and try again."
        if wants_json():
            return jsonify({"error": {"code": "conflict", "message": message}}), 409
        return render_template("errors/error.html", status=409, message=message), 409

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if wants_json():
            return jsonify({"error": {"code": "csrf", "message": error.description}}), 400
        return render_template(
            "errors/error.html",
            status=400,
            message="Your form expired or was sent from another page. Go back, reload and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        message = error.description
        if error.code == 403:
            origin.record_denied("not allowed for this role")
        if error.code == 413:  # werkzeug's words name no limit
            limit = (app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
            message = (
                f"The upload is too large: at most {max(limit, 1)} MB in all. Go back and attach fewer "
                "or smaller files."
            )
        if wants_json():
            return jsonify(_json_error(error, message)), error.code, _allow_header(error)
        return render_template("errors/error.html", status=error.code, message=message), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify({"error": {"code": "server_error", "message": "Something went wrong."}}), 500
        return render_template(
            "errors/error.html", status=500, message="Something went wrong on our side. It has been logged."
        ), 500


def _json_error(error, message):
    """An HTTP error in the DESIGN.md format. Request validation (webargs, via flask-smorest)
    aborts with 422 or 400 and its messages per location ({"json": {"title": [...]}}): they
    become the field messages, and the message names the first."""
    code = (error.name or "error").lower().replace(" ", "_")
    messages = (getattr(error, "data", None) or {}).get("messages")
    if not messages:
        return {"error": {"code": code, "message": message}}
    fields = {}
    for location, problems in messages.items():
        if isinstance(problems, dict):  # marshmallow names the body as a whole "_schema"
            fields.update(
                {"body" if name == "_schema" else name: _words(problem) for name, problem in problems.items()}
            )
        else:
            fields[location] = _words(problems)
    first, words = next(iter(fields.items()))
    if error.code == 422:
        code, message = "validation_error", f"{first}: {words}"
    else:
        message = words
    return {"error": {"code": code, "message": message, "fields": fields}}


def _words(problem):
    """A field's messages as one string (nested fields: "name: message")."""
    if isinstance(problem, dict):
        return "; ".join(f"{key}: {_words(value)}" for key, value in problem.items())
    if isinstance(problem, (list, tuple)):
        return " ".join(_words(item) for item in problem)
    return str(problem)


def _allow_header(error):
    allowed = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(allowed)} if error.code == 405 and allowed else {}


def local_time(value, tz_name=None, fmt="%Y-%m-%d %H:%M"):
    """A UTC datetime shown in the organization's timezone."""
    if value is None:
        return ""
    if tz_name is None and current_user and current_user.is_authenticated:
        tz_name = current_user.organization.timezone
    return value.astimezone(ZoneInfo(tz_name or "UTC")).strftime(fmt)


_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def linkify(text):
    """Plain text (comments, descriptions) escaped, with its web addresses made links.

    Only http(s) addresses become links and every piece is escaped, so nothing a user typed can
    open a tag or an attribute; punctuation ending a sentence stays outside the link."""
    pieces, last = [], 0
    for match in _URL.finditer(text or ""):
        url = match.group(0).rstrip(".,;:!?)")
        if match.group(0)[len(url) :].startswith(")") and url.count("(") > url.count(")"):
            url += ")"  # wiki-style addresses end in a bracket of their own
        pieces.append(escape(text[last : match.start()]))
        pieces.append(Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>').format(url))
        last = match.start() + len(url)
    pieces.append(escape((text or "")[last:]))
    return Markup("").join(pieces)


def _sla_status(ticket, now=None):
    """A ticket's SLA badge as of the request (the service takes its `now` from here)."""
    return sla.status_of(ticket, now or utcnow())


def register_template_helpers(app):
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(linkify, "linkify")
    app.add_template_global(_sla_status, "sla_status")  # a global: imported macros see it
    app.add_template_global(duration_words, "duration_words")

    @app.context_processor
    def inject_helpers():
        return {
            "can": policy.can,
            "home_url": home_url,
            "ticket_url": ticket_url,
            "unread_notifications": _unread_notifications,
            "latest_notification_id": _latest_notification_id,
        }
