"""Attachments: stored outside the web root, downloaded only by who may see them, and a refused
file never costs the user their ticket."""

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import Attachment, Ticket
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.conftest import csrf_token, login

PDF = b"%PDF-1.4 a small test document\n"


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def raise_ticket(client, files, title="Laptop broken"):
    return client.post(
        "/portal/tickets/new",
        data={
            "title": title,
            "description": "See the attached report.",
            "category_id": "",
            "attachments": [(io.BytesIO(data), name) for name, data in files],
            "csrf_token": csrf_token(client, "/portal/tickets/new"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def newest_ticket():
    return _db.session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))


def attachment_count():
    return _db.session.scalar(select(func.count()).select_from(Attachment))


def test_a_file_raised_with_a_ticket_is_stored_privately_and_downloads_as_a_file(client, org, uploads):
    employee = factories.make_user(org)
    login(client, employee)
    page = raise_ticket(client, [("report.pdf", PDF)]).get_data(as_text=True)
    ticket = newest_ticket()
    attachment = _db.session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
    assert attachment.filename == "report.pdf" and attachment.size_bytes == len(PDF)
    stored = uploads / attachment.stored_path
    assert stored.read_bytes() == PDF and "report" not in stored.name  # a random name
    assert "report.pdf" in page
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"


def test_the_default_upload_folder_is_outside_the_served_static_files(app):
    from config import Config

    assert not Path(Config.AUTOTRACK_UPLOAD_DIR).resolve().is_relative_to(Path(app.static_folder).resolve())


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("page.html", b"<script>alert(1)</script>", "files of this type cannot be attached"),
        ("logo.svg", b"<svg onload=alert(1)>", "files of this type cannot be attached"),
        ("big.pdf", b"x" * (1024 * 1024 + 1), "larger than 1 MB"),
        ("empty.txt", b"", "the file is empty"),
    ],
)
def test_a_refused_file_is_named_and_the_ticket_is_still_raised(
    client, org, app, monkeypatch, uploads, name, data, message
):
    monkeypatch.setitem(app.config, "AUTOTRACK_ATTACHMENT_MAX_MB", 1)
    login(client, factories.make_user(org))
    page = raise_ticket(client, [(name, data), ("ok.txt", b"fine")], title="Keep my words").get_data(as_text=True)
    ticket = newest_ticket()
    assert ticket.title == "Keep my words" and ticket.description == "See the attached report."
    assert name in page and message in page
    names = _db.session.scalars(select(Attachment.filename).where(Attachment.ticket_id == ticket.id)).all()
    assert names == ["ok.txt"]
    assert len([p for p in uploads.rglob("*") if p.is_file()]) == 1


def test_a_path_in_the_filename_is_dropped(client, org, uploads):
    login(client, factories.make_user(org))
    raise_ticket(client, [("../../etc/passwd.txt", b"root")])
    attachment = _db.session.scalar(select(Attachment))
    assert attachment.filename == "passwd.txt"
    assert (uploads / attachment.stored_path).resolve().is_relative_to(uploads.resolve())


@pytest.fixture
def shared_file(org):
    """A requester's ticket in Support with a public file and a file on an internal note."""
    requester = factories.make_user(org)
    agent = factories.make_user(org, "agent")
    ticket = factories.make_ticket(requester)
    from werkzeug.datastructures import FileStorage

    from autotrack.services.tickets import attachments

    public = attachments.add(requester, ticket, FileStorage(io.BytesIO(PDF), "public.pdf"))
    note = tickets.add_comment(agent, ticket, "Vendor quote attached", internal=True, now=utcnow())
    internal = attachments.add(agent, ticket, FileStorage(io.BytesIO(b"quote"), "quote.txt"), comment=note)
    _db.session.commit()
    return {"requester": requester, "agent": agent, "ticket": ticket, "public": public, "internal": internal}


def test_files_on_internal_notes_are_for_staff_only(client, org, shared_file):
    login(client, shared_file["requester"])
    page = client.get(f"/portal/tickets/{shared_file['ticket'].reference}").get_data(as_text=True)
    assert "public.pdf" in page and "quote.txt" not in page
    assert client.get(f"/attachments/{shared_file['public'].id}").status_code == 200
    assert client.get(f"/attachments/{shared_file['internal'].id}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    login(client, shared_file["agent"])
    page = client.get(f"/agent/tickets/{shared_file['ticket'].reference}").get_data(as_text=True)
    assert "public.pdf" in page and "quote.txt" in page
    assert client.get(f"/attachments/{shared_file['internal'].id}").status_code == 200


@pytest.mark.parametrize("who", ["other_employee", "other_org_admin", "other_org_agent"])
def test_people_who_cannot_see_the_ticket_get_404(client, org, other_org, shared_file, who):
    user = {
        "other_employee": lambda: factories.make_user(org),
        "other_org_admin": lambda: factories.admin_of(other_org),
        "other_org_agent": lambda: factories.make_user(other_org, "agent"),
    }[who]()
    login(client, user)
    for attachment in (shared_file["public"], shared_file["internal"]):
        assert client.get(f"/attachments/{attachment.id}").status_code == 404


@pytest.mark.parametrize("ident", ["abc", "-1", "1,2", "99999"])
def test_malformed_or_unknown_ids_are_404(client, org, shared_file, ident):
    login(client, shared_file["agent"])
    assert client.get(f"/attachments/{ident}").status_code == 404


def test_anonymous_users_are_sent_to_login(client, shared_file):
    response = client.get(f"/attachments/{shared_file['public'].id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_stored_files_and_folders_are_private_to_the_app(client, org, uploads):
    login(client, factories.make_user(org))
    raise_ticket(client, [("report.pdf", PDF)])
    attachment = _db.session.scalar(select(Attachment))
    stored = uploads / attachment.stored_path
    assert stored.stat().st_mode & 0o777 == 0o600
    assert stored.parent.stat().st_mode & 0o777 == 0o700
    assert uploads.stat().st_mode & 0o777 == 0o700  # made by the app: private


def test_an_upload_folder_the_operator_made_keeps_its_mode_and_its_files_stay_private(client, org, uploads):
    uploads.mkdir()
    uploads.chmod(0o750)  # e.g. readable by the web server's group, on purpose
    login(client, factories.make_user(org))
    raise_ticket(client, [("report.pdf", PDF)])
    stored = uploads / _db.session.scalar(select(Attachment)).stored_path
    assert uploads.stat().st_mode & 0o777 == 0o750
    assert stored.stat().st_mode & 0o777 == 0o600 and stored.parent.stat().st_mode & 0o777 == 0o700


def stored_files(uploads):
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


def test_too_many_files_in_one_request_raise_nothing_and_say_why(client, org, uploads):
    login(client, factories.make_user(org))
    response = raise_ticket(client, [(f"page{n}.txt", b"x") for n in range(11)], title="Eleven files")
    assert response.status_code == 422
    assert "At most 10 files at a time (11 were sent): nothing was saved." in response.get_data(as_text=True)
    assert newest_ticket() is None and attachment_count() == 0 and stored_files(uploads) == []


def test_too_many_bytes_in_one_request_raise_nothing_and_say_why(client, org, app, monkeypatch, uploads):
    monkeypatch.setitem(app.config, "AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB", 1)
    login(client, factories.make_user(org))
    half = b"x" * (600 * 1024)
    response = raise_ticket(client, [("a.txt", half), ("b.txt", half)])
    assert response.status_code == 422
    assert "At most 1 MB of files at a time: nothing was saved." in response.get_data(as_text=True)
    assert newest_ticket() is None and stored_files(uploads) == []


def reply_with_files(client, ticket, files, body="More files"):
    return client.post(
        f"/portal/tickets/{ticket.reference}/comments",
        data={
            "body": body,
            "attachments": [(io.BytesIO(data), name) for name, data in files],
            "csrf_token": csrf_token(client, f"/portal/tickets/{ticket.reference}"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_ticket_holds_only_so_many_files(client, org, app, monkeypatch, uploads):
    monkeypatch.setitem(app.config, "AUTOTRACK_ATTACHMENTS_PER_TICKET", 3)
    employee = factories.make_user(org)
    login(client, employee)
    raise_ticket(client, [("a.txt", b"a"), ("b.txt", b"b")])
    ticket = newest_ticket()
    page = reply_with_files(client, ticket, [("c.txt", b"c"), ("d.txt", b"d")], body="Two more").get_data(as_text=True)
    assert "A ticket holds at most 3 files (this one has 2): nothing was saved." in page
    assert attachment_count() == 2 and len(stored_files(uploads)) == 2
    assert "Two more" not in page  # the reply was not sent either: the person sends it again, with fewer files
    reply_with_files(client, ticket, [("c.txt", b"c")], body="One more")
    assert attachment_count() == 3


def test_a_ticket_holds_only_so_many_bytes_also_for_files_from_email(org, app, monkeypatch, uploads):
    from werkzeug.datastructures import FileStorage

    from autotrack.services.tickets import attachments

    monkeypatch.setitem(app.config, "AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB", 1)
    requester = factories.make_user(org)
    ticket = factories.make_ticket(requester)
    chunk = b"x" * (600 * 1024)
    assert attachments.add_many(requester, ticket, [FileStorage(io.BytesIO(chunk), "one.txt")]) == []
    refused = attachments.add_many(requester, ticket, [FileStorage(io.BytesIO(chunk), "two.txt")])
    assert refused == ["A ticket holds at most 1 MB of files: nothing was saved."]
    with pytest.raises(Exception, match="the ticket holds as many files as it may"):
        attachments.add(requester, ticket, FileStorage(io.BytesIO(chunk), "three.txt"))
    _db.session.commit()
    assert attachment_count() == 1 and len(stored_files(uploads)) == 1


def test_agents_attach_files_to_replies(client, org, shared_file):
    login(client, shared_file["agent"])
    reference = shared_file["ticket"].reference
    before = attachment_count()
    response = client.post(
        f"/agent/tickets/{reference}/comments",
        data={
            "body": "Here is the fix",
            "attachments": [(io.BytesIO(b"steps"), "fix.txt")],
            "csrf_token": csrf_token(client, "/agent/"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert attachment_count() == before + 1
    assert "fix.txt" in client.get(f"/agent/tickets/{reference}").get_data(as_text=True)


def test_a_request_over_the_upload_cap_gets_a_clear_page_not_a_crash(client, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    login(client, factories.make_user(org))
    response = raise_ticket(client, [("huge.pdf", b"x" * (128 * 1024))])
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True).lower()


def test_a_rolled_back_change_leaves_no_file_behind(org, uploads):
    """A file is written once its row is in the transaction; if that transaction is rolled
    back (a later step failed), the file goes too, and a committed one stays."""
    from werkzeug.datastructures import FileStorage

    from autotrack.services.tickets import attachments

    employee = factories.make_user(org)
    ticket = factories.make_ticket(employee)
    attachments.add(employee, ticket, FileStorage(io.BytesIO(PDF), "kept.pdf"))
    _db.session.commit()
    attachments.add(employee, ticket, FileStorage(io.BytesIO(PDF), "lost.pdf"))
    assert len(list(uploads.rglob("*"))) - 1 == 2  # two files (and the organization's folder)
    _db.session.rollback()
    files = [path for path in uploads.rglob("*") if path.is_file()]
    assert len(files) == 1 and attachment_count() == 1
    stored = _db.session.scalar(select(Attachment.stored_path))
    assert files[0] == uploads / stored
