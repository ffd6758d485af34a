"""In-app notifications, for everyone signed in: the list behind the bell, and marking read."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from autotrack.inbox import routes  # noqa: E402,F401
