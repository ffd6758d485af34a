"""Two-factor sign-in with an authenticator app (TOTP, RFC 6238, by pyotp) and one-time
recovery codes.

The secret is stored encrypted (services/crypto.py), the recovery codes hashed. A code is
accepted once: the time step it belongs to is remembered, so a code seen over a shoulder cannot
be replayed within its 30 seconds. Wrong codes are limited per user. An organization may require
it of its org admins, who are then sent to set it up before anything else.
"""

import hashlib
import re
import secrets

import pyotp
import segno
from sqlalchemy import delete, select, update

from autotrack.extensions import db
from autotrack.models import RecoveryCode
from autotrack.services import crypto, policy, security_log, throttle
from autotrack.services.errors import TooManyRequests, ValidationError

RECOVERY_CODES = 10
ATTEMPTS = 5  # wrong codes per user per 5 minutes


def enabled(user):
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def required(user):
    """Whether the organization makes this user set it up (its org admins, if it says so)."""
    return bool(user.organization.require_2fa_for_admins) and policy.is_org_admin(user)


def new_secret():
    return pyotp.random_base32()


def qr_data_uri(user, secret):
    """The otpauth:// URI as a QR code (an SVG data URI: no outside service sees the secret)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=f"AutoTrack {user.organization.name}")
    return segno.make(uri, error="m").svg_data_uri(scale=4)


def _digits(code):
    return re.sub(r"[\s-]", "", code or "")


def _step_matching(secret, code, now, after):
    """The time step (previous, current or next: clocks drift) whose code this is, if newer than `after`."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step > (after if after is not None else -1) and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable(user, secret, code, now):
    """Turn it on once the app shows the right code; returns the new recovery codes (shown once)."""
    step = _step_matching(secret, _digits(code), now, None) if len(_digits(code)) == 6 else None
    if step is None:
        raise ValidationError(
            "That code does not match: check the app's time and try the current code.", {"code": "Wrong code."}
        )
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = crypto.encrypt(secret), now, step
    security_log.record("two_factor_enabled", user=user, now=now)
    return new_recovery_codes(user, now)


def new_recovery_codes(user, now):
    """Ten fresh one-time codes; the old ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join((secrets.token_hex(3), secrets.token_hex(3))) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=now) for code in codes)
    db.session.flush()
    return codes


def _hash(code):
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def verify(user, code, now, *, recovery=True):
    """True for the current app code (once) or an unused recovery code; counts wrong ones and
    raises TooManyRequests past the limit. Flushes; the caller commits either way."""
    retry_after = throttle.hit(f"2fa:{user.id}", ATTEMPTS, window_seconds=300, now=now)
    if retry_after:
        raise TooManyRequests("Too many wrong codes. Wait a few minutes and sign in again.", retry_after)
    digits = _digits(code)
    secret = crypto.decrypt(user.totp_secret or "")
    if secret and len(digits) == 6 and digits.isdigit():
        step = _step_matching(secret, digits, now, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            db.session.flush()
            return True
    elif recovery and digits:
        used = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(digits), RecoveryCode.used_at.is_(None)
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if used == 1:
            security_log.record("recovery_code_used", user=user, detail=f"{remaining_codes(user)} left", now=now)
            return True
    security_log.record("two_factor_failed", user=user, now=now)
    return False


def remaining_codes(user):
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def disable(user, now):
    """Turn it off (the caller has checked the password and a code)."""
    if required(user):
        raise ValidationError(
            "Your organization requires two-factor sign-in for administrators.", {"code": "Required for your role."}
        )
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    security_log.record("two_factor_disabled", user=user, now=now)
    db.session.flush()
