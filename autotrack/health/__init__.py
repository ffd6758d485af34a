"""GET /healthz: database and Redis reachability, for load balancers (no sign-in, no tenant data)."""

from flask import Blueprint, jsonify

from autotrack.models.types import utcnow
from autotrack.services import health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    healthy, report = health.check(now=utcnow())
    response = jsonify(report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
