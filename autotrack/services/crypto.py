"""Secrets the app must use later (a mailbox's IMAP password) are stored encrypted with a key
derived from SECRET_KEY: a copy of the database alone does not reveal them."""
import base64
import hashlib

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
