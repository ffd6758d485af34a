"""Signed-in sessions that the server can end.

Flask's cookie is signed, not stored: by itself a copied cookie keeps working after sign-out.
So each sign-in is a row (user_sessions) and the cookie carries only its random id (Flask-Login's
alternative-token pattern: `User.get_id()` is "<user id>:<session id>"). A request is signed in
while its row is not revoked, not idle too long, not older than its lifetime, and made under the
user's current `auth_version`, which a password change or reset, a role change, deactivation and
"sign out everywhere" bump (a listener below), ending every session and API token at once.
"""

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, event, inspect, select, update
from sqlalchemy.orm import Session

from autotrack.extensions import db
from autotrack.models import Role, User, UserSession
from autotrack.services import security_log
from autotrack.services.people import signed_in

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


def _hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def start(user, *, remember=False, user_agent="", address="", now):
    """A new session for `user` (the caller signs them in with Flask-Login and commits)."""
    raw = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(raw),
        auth_version=user.auth_version,
        remember=bool(remember),
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:200],
        address=(address or "")[:64],
    )
    db.session.add(row)
    db.session.flush()
    row.raw_id = raw
    user.current_session = row
    return row


def load(cookie_id, now):
    """The user of a live session named by the cookie's "<user id>:<session id>", else None."""
    user_id, _, raw = str(cookie_id or "").partition(":")
    if not raw or not user_id.isdigit():
        return None  # a cookie from before sessions were kept: sign in again
    # One SELECT for the session and its user; permissions and seats from the per-organization cache.
    found = db.session.execute(_session_and_user(), {"token_hash": _hash(raw)}).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or str(row.user_id) != user_id:
        return None
    signed_in.attach_caches(user)
    if not user.is_active or user.auth_version != row.auth_version or _expired(row, now):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == row.id)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()  # the request has written nothing yet
        row.last_seen_at = now
    row.raw_id = raw
    user.current_session = row
    return user


@cache
def _session_and_user():
    return (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == bindparam("token_hash"))
        .options(*signed_in.options())
    )


def _expired(row, now):
    config = current_app.config
    if row.remember:
        return now - row.created_at > timedelta(days=config["AUTOTRACK_REMEMBER_DAYS"])
    return now - row.created_at > timedelta(
        hours=config["AUTOTRACK_SESSION_HOURS"]
    ) or now - row.last_seen_at > timedelta(minutes=config["AUTOTRACK_SESSION_IDLE_MINUTES"])


def end(user, now):
    """Sign-out: this session ends on the server, so its cookie is worthless from now on."""
    row = user.current_session
    if row is not None and row.id is not None:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == row.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


def end_all(user, now):
    """Sign out everywhere: every session and every API token of `user` stops working."""
    user.auth_version = (user.auth_version or 1) + 1
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


def live_sessions(user, now):
    """The user's sessions that still work, newest first (the account page lists them)."""
    rows = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.auth_version == user.auth_version,
        )
        .order_by(UserSession.id.desc())
        .limit(50)
    ).all()
    return [row for row in rows if not _expired(row, now)]


# What ends every session and token of a user, wherever it is changed (console, import, CLI,
# profile, reset): one listener rather than a call at each place. `role` is checked besides
# `role_id`: code sets the relationship, and role_id follows only at flush.


@event.listens_for(Session, "before_flush")
def _bump_auth_version(session, _flush_context, _instances):
    for obj in list(session.dirty):
        if not isinstance(obj, User):
            continue
        changes = _changes(obj)
        if changes and not inspect(obj).attrs.auth_version.history.has_changes():
            obj.auth_version = (obj.auth_version or 1) + 1
        for kind, detail in changes:
            security_log.record(kind, user=obj, detail=" ".join(filter(None, (detail, security_log.actor_words()))))


def _changes(user):
    """[(security event kind, detail)] of the changes that end the user's sessions."""
    state = inspect(user)

    def changed(name):
        history = state.attrs[name].history
        if history.has_changes() and history.deleted and history.deleted[0] not in (None, *history.added):
            return history
        return None

    changes = []
    if changed("password_hash"):
        changes.append(("password_changed", None))
    if changed("active"):
        changes.append(("reactivated" if user.active else "deactivated", None))
    role, role_id = changed("role"), changed("role_id")
    if role or role_id:
        old = role.deleted[0] if role else db.session.get(Role, role_id.deleted[0])
        new = user.role if role else db.session.get(Role, user.role_id)
        changes.append(("role_changed", f"{getattr(old, 'name', '?')} → {getattr(new, 'name', '?')}"))
    return changes
