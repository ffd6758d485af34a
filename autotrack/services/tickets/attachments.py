"""Ticket attachments: files kept outside the web root under random names, readable by the
app's own user only (files 0600, folders 0700), handed out only to people who may see the ticket
(and, for a file on an internal note, only to staff). A request, and a ticket over its life, may
carry only so many files and bytes (config: AUTOTRACK_ATTACHMENTS_*)."""

import hashlib
import os
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from autotrack.extensions import db
from autotrack.models import Attachment, Comment, Ticket
from autotrack.services import audit, policy
from autotrack.services.errors import NotFound, ValidationError
from autotrack.services.tenancy import parse_id, visible_tickets

# Extensions people attach to helpdesk tickets, with the type the download announces. Nothing a
# browser would run (HTML, SVG, scripts): downloads are attachments and nosniff anyway.
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "zip": "application/zip",
    "eml": "message/rfc822",
    "msg": "application/vnd.ms-outlook",
}
FILENAME_MAX = 255


def max_bytes():
    return current_app.config["AUTOTRACK_ATTACHMENT_MAX_MB"] * 1024 * 1024


def upload_dir():
    return Path(current_app.config["AUTOTRACK_UPLOAD_DIR"])


def _mb(name):
    return current_app.config[name] * 1024 * 1024


def _size(upload):
    """The uploaded file's size in bytes, without reading it into memory (werkzeug spooled it)."""
    stream = upload.stream
    start = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell() - start
    stream.seek(start)
    return size


def check_request(ticket, uploads):
    """Refuse, before anything is stored, a request with more files or bytes than one request
    may carry, or that would take `ticket` (None: a ticket being raised) past its own limits.
    ValidationError with the limit in words; the caller stores nothing."""
    config = current_app.config
    uploads = [upload for upload in uploads if upload and upload.filename]
    if not uploads:
        return
    count, size = len(uploads), sum(_size(upload) for upload in uploads)
    if count > config["AUTOTRACK_ATTACHMENTS_PER_REQUEST"]:
        raise _too_much(
            f"At most {config['AUTOTRACK_ATTACHMENTS_PER_REQUEST']} files at a time "
            f"({count} were sent): nothing was saved."
        )
    if size > _mb("AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB"):
        raise _too_much(
            f"At most {config['AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB']} MB of files at a time: nothing was saved."
        )
    had_count, had_size = _stored(ticket)
    if had_count + count > config["AUTOTRACK_ATTACHMENTS_PER_TICKET"]:
        raise _too_much(
            f"A ticket holds at most {config['AUTOTRACK_ATTACHMENTS_PER_TICKET']} files "
            f"(this one has {had_count}): nothing was saved."
        )
    if had_size + size > _mb("AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB"):
        raise _too_much(
            f"A ticket holds at most {config['AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB']} MB of files: nothing was saved."
        )


def _too_much(message):
    return ValidationError(message, {"attachments": message})


def _stored(ticket):
    """(files, bytes) already on the ticket."""
    if ticket is None or ticket.id is None:
        return 0, 0
    count, size = db.session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size_bytes), 0)).where(
            Attachment.ticket_id == ticket.id
        )
    ).one()
    return count, int(size)


def add(actor, ticket, upload, comment=None):
    """Store one uploaded file (a werkzeug FileStorage) on `ticket`; ValidationError, naming the
    file, when its type is not allowed or it is too large. Nothing is stored for a refused file."""
    policy.require(actor, "ticket.comment", ticket, message="You may not add files to this ticket.")
    filename = _clean_filename(upload.filename)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ALLOWED_TYPES:
        raise ValidationError(
            f"{filename}: files of this type cannot be attached (allowed: {', '.join(sorted(ALLOWED_TYPES))}).",
            {"attachments": "Type not allowed."},
        )
    data = upload.stream.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise ValidationError(
            f"{filename}: larger than {current_app.config['AUTOTRACK_ATTACHMENT_MAX_MB']} MB.",
            {"attachments": "Too large."},
        )
    if not data:
        raise ValidationError(f"{filename}: the file is empty.", {"attachments": "Empty file."})
    had_count, had_size = _stored(ticket)
    if had_count + 1 > current_app.config["AUTOTRACK_ATTACHMENTS_PER_TICKET"] or had_size + len(data) > _mb(
        "AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB"
    ):
        raise ValidationError(
            f"{filename}: the ticket holds as many files as it may "
            f"({current_app.config['AUTOTRACK_ATTACHMENTS_PER_TICKET']} files, "
            f"{current_app.config['AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB']} MB).",
            {"attachments": "The ticket's limit is reached."},
        )
    stored = Path(str(ticket.org_id)) / secrets.token_hex(16)
    attachment = Attachment(
        org_id=ticket.org_id,
        ticket=ticket,
        comment_id=comment.id if comment else None,
        uploaded_by_id=actor.id,
        filename=filename,
        stored_path=str(stored),
        content_type=ALLOWED_TYPES[extension],
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.session.add(attachment)
    db.session.flush()  # the row first: a refused row leaves no file behind
    target = upload_dir() / stored
    upload_dir().mkdir(mode=0o700, parents=True, exist_ok=True)  # an operator's own mode on it stays
    _private_dir(target.parent)
    _write_private(target, data)
    db.session.info.setdefault(_WRITTEN, []).append(target)
    audit.record(ticket.org_id, "attachment", actor=actor, ticket=ticket, to_value=filename)
    return attachment


def _private_dir(path):
    """A folder only the app's user may enter (also one made before, more open)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _write_private(path, data):
    """Write a new file readable by the app's user only (0600 from its creation: never a moment
    world-readable, whatever the umask)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


_WRITTEN = "attachment_files_written"


@event.listens_for(Session, "after_commit")
def _keep_written_files(session):
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _remove_written_files(session):
    """A rolled-back transaction leaves no file without its row."""
    for path in session.info.pop(_WRITTEN, []):
        path.unlink(missing_ok=True)


def add_many(actor, ticket, uploads, comment=None):
    """Store every acceptable file; returns the messages for the refused ones (the rest, and
    the ticket, are kept). Too many files or bytes for one request: none is stored."""
    try:
        check_request(ticket, uploads)
    except ValidationError as error:
        return [error.message]
    refused = []
    for upload in uploads:
        if not upload or not upload.filename:
            continue
        try:
            with db.session.begin_nested():
                add(actor, ticket, upload, comment)
        except ValidationError as error:
            refused.append(error.message)
    return refused


def visible_attachments(user, ticket):
    """The ticket's files `user` may see: those on internal notes only for staff."""
    query = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    if not policy.can(user, "ticket.see_internal", ticket):
        internal = select(Comment.id).where(Comment.ticket_id == ticket.id, Comment.internal.is_(True))
        query = query.where((Attachment.comment_id.is_(None)) | (Attachment.comment_id.not_in(internal)))
    return db.session.scalars(query).all()


def for_download(user, attachment_id):
    """(attachment, path on disk) if `user` may have it; NotFound otherwise, whoever owns it."""
    ident = parse_id(attachment_id)
    if ident is None:
        raise NotFound()
    attachment = db.session.scalar(
        select(Attachment)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.id == ident, Ticket.id.in_(visible_tickets(user).with_only_columns(Ticket.id)))
    )
    if attachment is None or attachment not in visible_attachments(user, attachment.ticket):
        raise NotFound()
    path = (upload_dir() / attachment.stored_path).resolve()
    if upload_dir().resolve() not in path.parents or not path.is_file():
        raise NotFound("The file is no longer on the server.")
    return attachment, path


def _clean_filename(name):
    """The name to show: the last path part, without control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "file"
    if len(base) > FILENAME_MAX:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: FILENAME_MAX - len(ext) - 1] + dot + ext) if dot else base[:FILENAME_MAX]
    return base
