"""Attachment downloads, for anyone signed in who may see the ticket."""

from flask import Blueprint, send_file
from flask_login import current_user, login_required

from autotrack.services.tickets import attachments

bp = Blueprint("files", __name__)


@bp.route("/<attachment_id>")
@login_required
def download(attachment_id):
    """Always a download, never rendered: a file cannot run script in our pages."""
    attachment, path = attachments.for_download(current_user, attachment_id)
    response = send_file(
        path, mimetype=attachment.content_type, as_attachment=True, download_name=attachment.filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
