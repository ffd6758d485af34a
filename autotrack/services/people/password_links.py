"""Password reset and invitations: a single-use link, sent through the outbox, that sets a
password.

The token is random (256 bits) and only its hash is stored; a reset link lives
AUTOTRACK_RESET_MINUTES, an invitation AUTOTRACK_INVITE_HOURS, and a newer link of the same kind
ends the older ones. Links are built from AUTOTRACK_BASE_URL, never from the request's Host or
X-Forwarded-Host (a forged Host would otherwise send the victim a link to the attacker's site).
Asking for a reset answers the same whether or not the address has an account, and is limited
per address and per account. Setting the password ends every session and API token of the user.
The link never sits in the outbox in plain text: the stored body has a placeholder, the link is
kept encrypted beside it and goes into the email only at delivery (services/outbox.py).
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from autotrack.extensions import db
from autotrack.models import PasswordToken, User
from autotrack.services import audit, outbox, security_log, throttle, urls
from autotrack.services.errors import TooManyRequests, ValidationError
from autotrack.services.people import accounts

RESET, INVITE = "reset", "invite"
RESET_PER_ADDRESS = 10  # per 15 minutes
RESET_PER_ACCOUNT = 3  # per hour
# What the asker is told, account or not.
RESET_SENT = (
    "If an account has that address, we have sent it a link to choose a new password. "
    "It works once and for a short time; check your spam folder if nothing arrives."
)


def _hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def link_for(raw):
    return urls.url("auth.reset", token=raw)


def _issue(user, purpose, now):
    """A new link of `purpose` for `user`; the older unused ones of that kind stop working."""
    db.session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.purpose == purpose, PasswordToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    raw = secrets.token_urlsafe(32)
    lifetime = (
        timedelta(minutes=current_app.config["AUTOTRACK_RESET_MINUTES"])
        if purpose == RESET
        else timedelta(hours=current_app.config["AUTOTRACK_INVITE_HOURS"])
    )
    row = PasswordToken(
        user_id=user.id, token_hash=_hash(raw), purpose=purpose, created_at=now, expires_at=now + lifetime
    )
    db.session.add(row)
    db.session.flush()
    return row, raw


def request_reset(email, address, *, now):
    """Someone asks for a reset of `email`: a link is mailed if it is an active account. The
    caller says the same thing either way. TooManyRequests past the limits (counted either way,
    so the limit tells nothing about the account)."""
    email = accounts.normalize_email(email)
    for key, limit, window in (
        (f"reset:address:{address}", RESET_PER_ADDRESS, 900),
        (f"reset:account:{email[:150]}", RESET_PER_ACCOUNT, 3600),
    ):
        retry_after = throttle.hit(key, limit, window_seconds=window, now=now)
        if retry_after:
            db.session.commit()
            raise TooManyRequests("Too many reset requests. Try again later.", retry_after)
    user = accounts.user_by_email(email)
    if user is None or not user.is_active:
        return False
    row, raw = _issue(user, RESET, now)
    minutes = current_app.config["AUTOTRACK_RESET_MINUTES"]
    outbox.queue_email(
        recipient=user.email,
        subject="Reset your AutoTrack password",
        org_id=user.org_id,
        body_text=(
            f"Hello {user.name},\n\nSomeone (we hope you) asked to reset the password of your AutoTrack "
            f"account. This link sets a new one; it works once, for {minutes} minutes:\n\n"
            f"{outbox.LINK_PLACEHOLDER}\n\nIf you did not ask, ignore this email: your password stays as it is.\n"
        ),
        secret_link=link_for(raw),
        dedupe_key=f"password:{row.id}",
        now=now,
    )
    security_log.record("password_reset_requested", user=user, address=address, now=now)
    return True


def invite(user, actor=None, *, now):
    """Mail a new account's holder a link to choose their password (console, CSV import)."""
    row, raw = _issue(user, INVITE, now)
    hours = current_app.config["AUTOTRACK_INVITE_HOURS"]
    inviter = f"{actor.name} has" if actor is not None else "Your organization has"
    outbox.queue_email(
        recipient=user.email,
        subject=f"Your AutoTrack account at {user.organization.name}",
        org_id=user.org_id,
        body_text=(
            f"Hello {user.name},\n\n{inviter} opened an AutoTrack account for you ({user.email}). "
            f"Choose your password here; the link works once, for {hours} hours:\n\n{outbox.LINK_PLACEHOLDER}\n"
        ),
        secret_link=link_for(raw),
        dedupe_key=f"password:{row.id}",
        now=now,
    )
    return row


def valid_token(raw, *, now):
    """The token row for a link still usable, else None (unknown, used, superseded or expired)."""
    if not raw or len(raw) > 100:
        return None
    row = db.session.scalar(select(PasswordToken).where(PasswordToken.token_hash == _hash(raw)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row


def use(raw, password, *, now):
    """Set the password through a link; the link is spent (the UPDATE claims it, so two tabs
    cannot both use it) and every session and token of the user ends. Returns the user."""
    row = valid_token(raw, now=now)
    if row is None:
        raise ValidationError(
            "This link has expired or has been used. Ask for a new one.", {"password": "The link is no longer valid."}
        )
    accounts.check_password_strength(password)
    claimed = db.session.execute(
        update(PasswordToken)
        .where(PasswordToken.id == row.id, PasswordToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ValidationError("This link has just been used. Ask for a new one.", {"password": "Used."})
    user = row.user
    accounts.set_password(user, password)
    user.failed_login_count, user.locked_until = 0, None
    audit.record(user.org_id, "password_set", actor=user, to_value=row.purpose, now=now)
    db.session.flush()
    return user
