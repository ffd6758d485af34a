"""The manager portal: escalated tickets and the state of the teams."""

from flask import Blueprint

from autotrack.web import guard_portal

bp = Blueprint("manager", __name__)
bp.before_request(guard_portal("manager"))

from autotrack.manager import routes  # noqa: E402,F401
