"""Security events: one call, `record`, from the places where they happen (sign-in, sessions,
denied requests, account changes). Flushed with the caller's transaction, except where noted.

The client's address and who is signed in are the web layer's to know: a caller passes the
address, or the web layer hands both over once at request start as an `Origin` in the database
session's info (so the services it calls, and the flush hook of people/sessions.py, write them
without reading the request). Jobs and the CLI have no origin: no address, no actor."""

from collections.abc import Callable
from dataclasses import dataclass

from autotrack.extensions import db
from autotrack.models import SecurityEvent

KINDS = {
    "sign_in": "Password accepted (signed in, or on to the second factor)",
    "sign_in_failed": "Sign-in failed",
    "locked": "Account locked after failed sign-ins",
    "sign_out": "Signed out",
    "signed_out_everywhere": "Signed out everywhere (sessions and API tokens ended)",
    "access_denied": "Access denied",
    "role_changed": "Role changed",
    "deactivated": "Deactivated",
    "reactivated": "Reactivated",
    "password_changed": "Password changed",
    "password_reset_requested": "Password reset link sent",
    "two_factor_enabled": "Two-factor sign-in turned on",
    "two_factor_disabled": "Two-factor sign-in turned off",
    "two_factor_failed": "Wrong two-factor code",
    "recovery_code_used": "Recovery code used",
    "role_edited": "A role's permissions changed",
}


ORIGIN = "autotrack.security_log.origin"  # key in Session.info: the Origin of this unit of work


def _nobody():
    return None


@dataclass(frozen=True)
class Origin:
    """Where a request's work comes from: the client's address, and `actor`, which names who is
    signed in when asked (asked only when an event names them: signing in or out during the
    request changes who that is)."""

    address: str | None = None
    actor: Callable[[], str | None] = _nobody


def set_origin(origin):
    """The web layer, at request start: events of this unit of work come from `origin`."""
    db.session.info[ORIGIN] = origin


def origin():
    """The Origin the web layer set for this unit of work, or an empty one (a job, the CLI)."""
    return db.session.info.get(ORIGIN) or Origin()


def record(kind, *, user=None, org_id=None, detail=None, address=None, now=None):
    """Append one event (an unknown `kind` is a programming error); without `address`, the
    request's (`origin()`); without `now`, the row's insert time (the model's default) stamps it,
    as for a change seen in a flush hook."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    address = address if address is not None else origin().address
    address = None if address is None else address[:64]
    event = SecurityEvent(
        org_id=org_id if org_id is not None else (user.org_id if user is not None else None),
        user_id=user.id if user is not None else None,
        kind=kind,
        detail=None if detail is None else str(detail)[:500],
        address=address,
        **({} if now is None else {"created_at": now}),
    )
    db.session.add(event)
    return event


def actor_words():
    """'by <name>' for a change made by someone signed in, else '' (CLI, import, job)."""
    name = origin().actor()
    return f"by {name}" if name else ""


def record_denied(user, detail, address=None):
    """A refused request (403) of the signed-in `user`, in its own transaction: the request's
    own work was rolled back, the evidence stays."""
    try:
        record("access_denied", user=user, detail=detail[:500], address=address)
        db.session.commit()
    except Exception:  # noqa: BLE001 - never let the log hide the answer
        db.session.rollback()
