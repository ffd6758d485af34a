"""Security events: one call, `record`, from the places where they happen (sign-in, sessions,
denied requests, account changes). Flushed with the caller's transaction, except where noted."""
from flask import has_request_context, request
from flask_login import current_user

from autotrack.extensions import db
from autotrack.models import SecurityEvent

KINDS = {
    "sign_in": "Password accepted (signed in, or on to the second factor)", "sign_in_failed": "Sign-in failed", "locked": "Account locked after failed sign-ins",
    "sign_out": "Signed out", "signed_out_everywhere": "Signed out everywhere (sessions and API tokens ended)",
    "access_denied": "Access denied", "role_changed": "Role changed", "deactivated": "Deactivated",
    "reactivated": "Reactivated", "password_changed": "Password changed",
    "password_reset_requested": "Password reset link sent",
    "two_factor_enabled": "Two-factor sign-in turned on", "two_factor_disabled": "Two-factor sign-in turned off",
    "two_factor_failed": "Wrong two-factor code", "recovery_code_used": "Recovery code used",
    "role_edited": "A role's permissions changed",
}


def record(kind, *, user=None, org_id=None, detail=None, now=None):
    """Append one event (an unknown `kind` is a programming error); without `now`, the row's insert
    time (the model's default) stamps it, as for a change seen in a flush hook."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    address = (request.remote_addr or "")[:64] if has_request_context() else None
    event = SecurityEvent(org_id=org_id if org_id is not None else (user.org_id if user is not None else None),
                          user_id=user.id if user is not None else None, kind=kind,
                          detail=None if detail is None else str(detail)[:500], address=address,
                          **({} if now is None else {"created_at": now}))
    db.session.add(event)
    return event


def actor_words():
    """'by <name>' for a change made by someone signed in, else '' (CLI, import, job)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return f"by {current_user.name}"
    return ""


def record_denied(status_detail):
    """A refused request (403) of the signed-in user, in its own transaction: the request's
    own work was rolled back, the evidence stays."""
    if not (has_request_context() and current_user and current_user.is_authenticated):
        return
    try:
        record("access_denied", user=current_user._get_current_object(),
               detail=f"{request.method} {request.path[:300]}: {status_detail}"[:500])
        db.session.commit()
    except Exception:  # noqa: BLE001 - never let the log hide the answer
        db.session.rollback()
