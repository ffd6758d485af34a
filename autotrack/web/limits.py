"""The rate limits of the doors people knock on: sign-in (and its second step), registration,
password reset and API tokens. Per client address, on POST only; the limit is read from the
config at each request, so an operator can tune it and tests can tighten it."""

from flask import current_app

from autotrack.extensions import limiter

MESSAGE = "Too many attempts from your address. Wait a minute and try again."


def _auth_limit():
    return current_app.config["AUTOTRACK_AUTH_RATE_LIMIT"]


auth_limit = limiter.limit(_auth_limit, methods=["POST"], error_message=MESSAGE, scope="auth")
