"""The agent portal: work the department queues."""

from flask import Blueprint

from autotrack.web import guard_portal

bp = Blueprint("agent", __name__)
bp.before_request(guard_portal("agent"))

from autotrack.agent import routes  # noqa: E402,F401
