"""Passwords and sign-in, with lockout after repeated failures."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import case, literal, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from autotrack.extensions import db
from autotrack.models import User
from autotrack.models.types import UTCDateTime
from autotrack.services import security_log
from autotrack.services.errors import ValidationError

PASSWORD_MIN = 8
PASSWORD_MAX = 200
# Checked against when the email is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = None


def hash_password(password):
    return generate_password_hash(password, method=current_app.config["AUTOTRACK_PASSWORD_HASH_METHOD"])


def check_password_strength(password):
    if not password or len(password) < PASSWORD_MIN:
        raise ValidationError(
            f"The password must have at least {PASSWORD_MIN} characters.",
            {"password": f"At least {PASSWORD_MIN} characters."},
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationError("The password is too long.", {"password": f"At most {PASSWORD_MAX} characters."})


def set_password(user, password):
    check_password_strength(password)
    user.password_hash = hash_password(password)


def normalize_email(email):
    return (email or "").strip().lower()


def user_by_email(email):
    # Emails are stored lower-case, so the unique index answers this.
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(email, password, *, now, channel="web"):
    """The user for these credentials, or None (never saying which part was wrong).

    Each attempt on an account is counted in the database before its password is checked, and
    at most AUTOTRACK_LOGIN_MAX_FAILURES in a row are let through: parallel guesses cannot all
    read "not locked" and each get a check. The attempt that takes the last one locks the
    account for AUTOTRACK_LOGIN_LOCK_MINUTES at once, unless its password turns out right. The
    count is committed before the slow hash check (no lock is held during it); the caller
    commits the rest (security events, last sign-in).
    """
    user = user_by_email(email)
    if user is None or not user.password_hash:
        _dummy_check(password)
        why = "unknown address" if user is None else "no password set yet"
        security_log.record(
            "sign_in_failed", user=user, detail=f"{channel}: {why} {normalize_email(email)[:120]}", now=now
        )
        return None
    user_id = user.id
    attempt = _take_attempt(user_id, now)
    db.session.commit()  # other attempts see this one counted before it is checked
    user = db.session.get(User, user_id)
    if attempt is None:  # locked, or its last attempts are being checked right now
        _dummy_check(password)
        security_log.record("sign_in_failed", user=user, detail=f"{channel}: locked {user.email[:120]}", now=now)
        return None
    if not check_password_hash(user.password_hash, password or ""):
        if attempt >= current_app.config["AUTOTRACK_LOGIN_MAX_FAILURES"]:
            security_log.record("locked", user=user, detail=f"{channel}: until {user.locked_until}", now=now)
        else:
            security_log.record("sign_in_failed", user=user, detail=f"{channel}: wrong password", now=now)
        return None
    # The right password: whoever knows it is not guessing, so the count starts again.
    user.failed_login_count, user.locked_until = 0, None
    if not user.is_active or not user.organization.is_active:
        security_log.record("sign_in_failed", user=user, detail=f"{channel}: account inactive", now=now)
        db.session.flush()
        return None
    security_log.record("sign_in", user=user, detail=channel, now=now)
    user.last_login_at = now
    db.session.flush()
    return user


def _dummy_check(password):
    """As much work as a real check, so the response time tells nothing about the account."""
    global _DUMMY_HASH
    _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
    check_password_hash(_DUMMY_HASH, password or "")


def _take_attempt(user_id, now):
    """Count one attempt on the account with one conditional UPDATE (atomic on both databases:
    the row stays locked until the caller commits) and return its number; None when the
    account is locked or its attempts are all taken. The last one allowed locks the account
    straight away (its own right password lifts that); an ended lock starts a new count."""
    limit = current_app.config["AUTOTRACK_LOGIN_MAX_FAILURES"]
    lock_until = now + timedelta(minutes=current_app.config["AUTOTRACK_LOGIN_LOCK_MINUTES"])
    db.session.execute(
        update(User)
        .where(User.id == user_id, User.locked_until <= now)
        .values(locked_until=None, failed_login_count=0)
        .execution_options(synchronize_session=False)
    )
    taken = (
        db.session.execute(
            update(User)
            .where(User.id == user_id, User.locked_until.is_(None), User.failed_login_count < limit)
            # In this order: MariaDB's SET sees the columns assigned before it (SQLite the old values).
            .ordered_values(
                (
                    User.locked_until,
                    case((User.failed_login_count + 1 >= limit, literal(lock_until, UTCDateTime())), else_=None),
                ),
                (User.failed_login_count, User.failed_login_count + 1),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if not taken:
        return None
    # Still in this transaction, so the count read is this attempt's own.
    return db.session.scalar(select(User.failed_login_count).where(User.id == user_id))


def change_name(user, name):
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValidationError("Give your name (at most 120 characters).", {"name": "Required, at most 120 characters."})
    user.name = name
    db.session.flush()


def password_matches(user, password):
    return bool(user.password_hash) and check_password_hash(user.password_hash, password or "")


def change_password(user, current, new):
    """The signed-in user's own change: the current password is required, and every other
    session and API token of theirs ends (services/people/sessions.py bumps their auth version)."""
    if not password_matches(user, current):
        raise ValidationError("That is not your current password.", {"current": "Not your current password."})
    set_password(user, new)
    db.session.flush()
