"""Secrets the app must use later (a mailbox's IMAP password) are stored encrypted with a key
derived from SECRET_KEY: a copy of the database alone does not reveal them."""

import base64
import hashlib
import re

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet():
    digest = hashlib.sha256(b"autotrack stored secret:" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain):
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token):
    """The secret, or None when it was stored under another SECRET_KEY (enter it again)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


_URL_CREDENTIALS = re.compile(r"(//[^/\s:@]*:)[^@\s/]+@")


def redact(text, *extra_secrets):
    """`text` (an error message about to be logged or stored) without the secrets it might carry:
    the configured SMTP password and secret key, any given (a mailbox's password), and passwords
    written into URLs."""
    text = _URL_CREDENTIALS.sub(r"\1[redacted]@", str(text))
    for secret in (current_app.config.get("MAIL_PASSWORD"), current_app.config.get("SECRET_KEY"), *extra_secrets):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text
