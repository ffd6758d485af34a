"""Passwords and sign-in, with lockout after repeated failures."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from autotrack.extensions import db
from autotrack.models import User, utcnow
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


def authenticate(email, password, now=None, channel="web"):
    """The user for these credentials, or None (never saying which part was wrong).

    Failures are counted per account; after AUTOTRACK_LOGIN_MAX_FAILURES in a row the account
    refuses every password for AUTOTRACK_LOGIN_LOCK_MINUTES. Flushes the counters; the caller commits.
    """
    global _DUMMY_HASH
    now = now or utcnow()
    user = user_by_email(email)
    if user is None or not user.password_hash or (user.locked_until is not None and user.locked_until > now):
        # Same work as a real check, so response time tells nothing about the account.
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        check_password_hash(_DUMMY_HASH, password or "")
        why = "unknown address" if user is None else ("locked" if user.password_hash else "no password set yet")
        security_log.record("sign_in_failed", user=user, detail=f"{channel}: {why} {normalize_email(email)[:120]}",
                            now=now)
        return None
    if not check_password_hash(user.password_hash, password or ""):
        if _count_failure(user.id, now):
            security_log.record("locked", user=user, detail=f"{channel}: until {user.locked_until}", now=now)
        else:
            security_log.record("sign_in_failed", user=user, detail=f"{channel}: wrong password", now=now)
        return None
    if not user.is_active or not user.organization.is_active:
        security_log.record("sign_in_failed", user=user, detail=f"{channel}: account inactive", now=now)
        return None
    security_log.record("sign_in", user=user, detail=channel, now=now)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    return user


def _count_failure(user_id, now):
    """Count a failed sign-in in SQL (parallel guesses cannot overwrite each other's count)
    and lock the account once the limit is reached."""
    limit = current_app.config["AUTOTRACK_LOGIN_MAX_FAILURES"]
    lock_until = now + timedelta(minutes=current_app.config["AUTOTRACK_LOGIN_LOCK_MINUTES"])
    db.session.execute(update(User).where(User.id == user_id)
                       .values(failed_login_count=User.failed_login_count + 1)
                       .execution_options(synchronize_session=False))
    locked = db.session.execute(update(User).where(User.id == user_id, User.failed_login_count >= limit)
                                .values(failed_login_count=0, locked_until=lock_until)
                                .execution_options(synchronize_session=False)).rowcount == 1
    if locked:
        db.session.expire(db.session.get(User, user_id), ["locked_until", "failed_login_count"])
    return locked


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
    session and API token of theirs ends (services/sessions.py bumps their auth version)."""
    if not password_matches(user, current):
        raise ValidationError("That is not your current password.", {"current": "Not your current password."})
    set_password(user, new)
    db.session.flush()
