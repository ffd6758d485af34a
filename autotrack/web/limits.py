"""The rate limits of the doors people knock on: sign-in (and its second step), registration,
password reset and API tokens. Per client address, on POST only; the limit is read from the
config at each request, so an operator can tune it and tests can tighten it.

Only these doors pay for it: there are no app-wide limits, so Flask-Limiter's app-wide request
hooks (run on every request, limited or not) are left out; `auth_limit` counts the request in
the view's decorator, as Flask-Limiter does, and adds its headers (Retry-After, X-RateLimit-*)
to that request's response alone.
"""

from functools import wraps

from flask import after_this_request, current_app
from flask_limiter import Limiter

from autotrack.extensions import limiter

MESSAGE = "Too many attempts from your address. Wait a minute and try again."
# Flask-Limiter's own after-request step (headers, and deductions made on the response).
_inject_headers = Limiter._Limiter__inject_headers


def _auth_limit():
    return current_app.config["AUTOTRACK_AUTH_RATE_LIMIT"]


_limit = limiter.limit(_auth_limit, methods=["POST"], error_message=MESSAGE, scope="auth")


def auth_limit(view):
    """Limit this door per client address (POST only)."""
    limited = _limit(view)

    @wraps(view)
    def door(*args, **kwargs):
        after_this_request(lambda response: _inject_headers(limiter, response))
        return limited(*args, **kwargs)

    return door


def init_limiter(app):
    """Bind the limiter without its app-wide request hooks: Flask-Limiter registers them on an
    app only when it is not yet among the app's limiters, so it is put there first."""
    app.extensions.setdefault("limiter", set()).add(limiter)
    limiter.init_app(app)
