"""JSON API v1 under /api/v1 (contract: DESIGN.md "JSON API").

Bearer tokens only, never the session cookie, so the blueprint is CSRF-exempt. flask-smorest
validates requests with the marshmallow schemas of api/schemas.py and writes the OpenAPI spec
(/api/v1/openapi.json) from the same schemas. Every error is JSON in the DESIGN.md format
(the app's error handlers, see web/__init__.py).
"""

from flask import g, request
from flask_smorest import Api, Blueprint

from autotrack.api.schemas import ErrorSchema
from autotrack.extensions import csrf, db
from autotrack.services.people import api_tokens

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Tickets, comments, transitions and audit trail, for integrations.",
)
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.token"}


class AutoTrackApi(Api):
    """flask-smorest's Api, minus its app-wide error handler: the app answers errors itself
    (HTML pages for people, the DESIGN.md JSON format under /api/)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


SPEC = {
    "info": {
        "description": "AutoTrack's JSON API. Get a token with POST /auth/token, then send "
        'Authorization: Bearer <token>. Errors: {"error": {code, message, fields}}.'
    },
    "security": [{"bearerAuth": []}],
}


@bp.before_request
def authenticate():
    # The answer is written from the objects the request just changed and committed: keeping
    # their loaded state saves reloading each of them and its relations (8 queries for a new
    # ticket). Only for this request's session, which ends with it.
    db.session().expire_on_commit = False
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    g.api_user = api_tokens.user_for(request.headers.get("Authorization"))


def init_app(app):
    """One Api per app (it keeps the app's spec), registering the one blueprint."""
    from autotrack.api import routes  # registers the views on bp

    api = AutoTrackApi(app, spec_kwargs=SPEC)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.register_blueprint(bp)
    app.add_url_rule("/api/v1/docs", "api_docs", routes.docs)
