"""Who and where a request comes from, for the security log: handed to the services once at
request start (services/security_log.py `Origin`), so no service reads the request or the
signed-in user."""

from flask import request
from flask_login import current_user

from autotrack.services import security_log


def _signed_in_name():
    return current_user.name if current_user and current_user.is_authenticated else None


def request_origin():
    """This request's client address and (asked when an event is written) who is signed in."""
    return security_log.Origin(address=(request.remote_addr or "")[:64], actor=_signed_in_name)


def record_denied(status_detail):
    """A refused request (403) of the signed-in user goes to the security log (nobody's: nothing)."""
    if current_user and current_user.is_authenticated:
        security_log.record_denied(
            current_user._get_current_object(),
            f"{request.method} {request.path[:300]}: {status_detail}",
            address=request_origin().address,
        )


def init_app(app):
    """Before anything else in a request (signing in, loading the session's user) can write an event."""
    app.before_request(lambda: security_log.set_origin(request_origin()))
