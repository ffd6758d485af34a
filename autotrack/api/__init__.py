"""JSON API v1 (endpoints arrive with the API issue). Bearer tokens only, never the session
cookie, so the blueprint is CSRF-exempt; every error is JSON in the DESIGN.md format."""
from flask import Blueprint

from autotrack.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)
