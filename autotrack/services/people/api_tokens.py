"""Bearer tokens for the JSON API: signed JWTs (PyJWT, HS256 with a key derived from SECRET_KEY).

A token names its user, organization, a fingerprint of the user's password hash and the user's
auth_version, so it stops working when the user is deactivated, moved, changes role or password,
or signs out everywhere (services/people/sessions.py); it expires
after AUTOTRACK_API_TOKEN_MINUTES. Nothing is stored: the signature is the proof.
"""

import hashlib
from datetime import timedelta

import jwt
from flask import current_app

from autotrack.extensions import db
from autotrack.services import throttle
from autotrack.services.errors import TooManyRequests, Unauthorized
from autotrack.services.people import accounts, signed_in, two_factor

ALGORITHM = "HS256"
ISSUER = "autotrack"


def signing_key():
    """A 32-byte key derived from SECRET_KEY: tokens are not signed with the session cookies'
    key itself, and HS256 gets a key of its full strength whatever SECRET_KEY's length."""
    return hashlib.sha256(b"autotrack api token:" + current_app.config["SECRET_KEY"].encode()).digest()


def _password_version(user):
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def issue(email, password, address, now, otp=None):
    """{access_token, token_type, expires_in} for valid credentials; Unauthorized otherwise.

    Rate-limited per client address and per account (the count is kept in the database, so it
    holds across workers and restarts); wrong passwords also count toward the account lockout."""
    config = current_app.config
    checks = (
        (f"token:address:{address}", config["AUTOTRACK_API_TOKEN_PER_ADDRESS"]),
        (f"token:account:{accounts.normalize_email(email)[:150]}", config["AUTOTRACK_API_TOKEN_PER_ACCOUNT"]),
    )
    for key, limit in checks:
        retry_after = throttle.hit(key, limit, window_seconds=60, now=now)
        if retry_after:
            db.session.commit()  # the refused attempt still counts
            raise TooManyRequests("Too many token requests. Try again in a minute.", retry_after)
    user = accounts.authenticate(email, password, now=now, channel="api")
    db.session.commit()  # failure counters and lockout
    if user is None:
        raise Unauthorized("Wrong email or password, or the account is locked or inactive.")
    if two_factor.enabled(user):
        try:
            accepted = bool(otp) and two_factor.verify(user, otp, now, recovery=False)
        finally:
            db.session.commit()  # a wrong code counts, also the one past the limit
        if not accepted:
            raise Unauthorized("This account signs in with two factors: send the app's current code as `otp`.")
    elif two_factor.required(user):
        raise Unauthorized("Your organization requires two-factor sign-in: set it up in the web first.")
    minutes = config["AUTOTRACK_API_TOKEN_MINUTES"]
    claims = {
        "iss": ISSUER,
        "sub": str(user.id),
        "org": user.org_id,
        "pv": _password_version(user),
        "av": user.auth_version,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    token = jwt.encode(claims, signing_key(), algorithm=ALGORITHM)
    return {"access_token": token, "token_type": "Bearer", "expires_in": minutes * 60}


def user_for(header):
    """The active user an `Authorization: Bearer …` header stands for, or Unauthorized."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send a bearer token: Authorization: Bearer <token> (POST /api/v1/auth/token).")
    try:
        claims = jwt.decode(
            token.strip(),
            signing_key(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired. Ask for a new one.") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The token is not valid.") from None
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("The token is not valid.") from None
    # One SELECT: the user, organization and role; permissions and seats from the cache.
    user = signed_in.load(user_id)
    if (
        user is None
        or not user.is_active
        or user.org_id != claims.get("org")
        or claims.get("pv") != _password_version(user)
        or claims.get("av") != user.auth_version
    ):
        raise Unauthorized("The token is no longer valid. Ask for a new one.")
    return user
