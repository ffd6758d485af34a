"""The employee portal: raise tickets and follow your own."""

from flask import Blueprint

from autotrack.web import guard_portal

bp = Blueprint("portal", __name__)
bp.before_request(guard_portal("portal"))

from autotrack.portal import routes  # noqa: E402,F401
