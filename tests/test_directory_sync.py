"""Directory sync: the staff directory read from an https source (a real local HTTPS server
with a throwaway CA), its diff recorded and applied all-or-nothing, removed entries deactivated
(never deleted), and the fetch refusing internal addresses on the first hop and every redirect."""

import http.server
import ssl
import threading
import time
from datetime import timedelta

import pytest
import trustme
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import DirectoryEntry, DirectorySync, User, utcnow
from autotrack.services.errors import ValidationError
from autotrack.services.org import directory_sync, registration
from autotrack.services.org.directory_sync import SourceRefused
from tests import factories
from tests.conftest import login, post_form
from tests.helpers import run_concurrently

HEADER = "employee_id,first_name,last_name,email,department\r\n"
ADA = "E-1,Ada,Lovelace,ada@acme.example,Support\r\n"
BOB = "E-2,Bob,Builder,bob@acme.example,Support\r\n"
CAROL = "E-3,Carol,Shaw,carol@acme.example,Support\r\n"


class Source:
    """What the local HTTPS server answers, path by path, and what it was asked."""

    def __init__(self):
        self.routes = {}
        self.requests = []


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def source(app, ca, tmp_path, monkeypatch):
    state = Source()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # http.server's name
            state.requests.append(self.path)
            answer = state.routes.get(self.path, (404, {}, b"not here"))
            if callable(answer):
                return answer(self)
            status, headers, body = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    # The operator trusts this one address (an intranet HR server would be, say, 10.20.0.0/16).
    monkeypatch.setitem(app.config, "AUTOTRACK_DIRECTORY_ALLOWED_NETWORKS", "127.0.0.1/32")
    monkeypatch.setitem(app.config, "AUTOTRACK_DIRECTORY_CA_BUNDLE", str(bundle))
    state.base = f"https://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def serve_csv(source, text, path="/staff.csv"):
    source.routes[path] = (200, {"Content-Type": "text/csv"}, text.encode())
    return source.base + path


def entries(org):
    _db.session.expire_all()
    return {
        e.employee_id: e.active
        for e in _db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.org_id == org.id))
    }


def test_a_sync_applies_its_diff_and_deactivates_rather_than_deletes(org, source):
    org.directory_url = serve_csv(source, HEADER + ADA + BOB)
    _db.session.commit()
    first = directory_sync.run_now(org, apply=True, now=utcnow())
    assert (first.status, first.added, first.changed, first.removed) == ("applied", 2, 0, 0)
    assert entries(org) == {"E-1": True, "E-2": True}

    serve_csv(source, HEADER + ADA.replace("Lovelace", "King") + CAROL)
    second = directory_sync.run_now(org, apply=True, now=utcnow())
    assert (second.status, second.added, second.changed, second.removed) == ("applied", 1, 1, 1)
    assert {(line["action"], line["employee_id"]) for line in directory_sync.diff_lines(second)} == {
        ("added", "E-3"),
        ("changed", "E-1"),
        ("removed", "E-2"),
    }
    assert entries(org) == {"E-1": True, "E-2": False, "E-3": True}  # Bob kept, but inactive
    with pytest.raises(ValidationError, match="not in Acme"):
        registration.register("acme", "E-2", "bob@acme.example", "a long enough passphrase 1")

    serve_csv(source, HEADER + ADA.replace("Lovelace", "King") + BOB + CAROL)  # Bob is back
    third = directory_sync.run_now(org, apply=True, now=utcnow())
    assert (third.added, third.removed) == (1, 0) and directory_sync.diff_lines(third)[0]["detail"] == "listed again"
    assert entries(org)["E-2"] is True
    assert directory_sync.run_now(org, apply=True, now=utcnow()).status == "unchanged"


def test_removing_an_entry_never_touches_the_users_account(org, source):
    org.directory_url = serve_csv(source, HEADER + ADA + BOB)
    _db.session.commit()
    directory_sync.run_now(org, apply=True, now=utcnow())
    user = registration.register("acme", "E-2", "bob@acme.example", "a long enough passphrase 1")
    _db.session.commit()
    serve_csv(source, HEADER + ADA)
    assert directory_sync.run_now(org, apply=True, now=utcnow()).removed == 1
    _db.session.expire_all()
    assert _db.session.get(User, user.id).active is True


def test_one_bad_row_changes_nothing_and_names_its_line(org, source):
    org.directory_url = serve_csv(source, HEADER + ADA)
    _db.session.commit()
    directory_sync.run_now(org, apply=True, now=utcnow())
    serve_csv(source, HEADER + BOB + "E-9,Eve,,eve@acme.example,Nowhere\r\n")
    run = directory_sync.run_now(org, apply=True, now=utcnow())
    assert run.status == "failed" and "line 3" in run.error
    assert entries(org) == {"E-1": True}  # Ada not removed, Bob not added


def test_an_empty_source_removes_nobody(org, source):
    org.directory_url = serve_csv(source, HEADER + ADA)
    _db.session.commit()
    directory_sync.run_now(org, apply=True, now=utcnow())
    serve_csv(source, HEADER)
    run = directory_sync.run_now(org, apply=True, now=utcnow())
    assert run.status == "failed" and "lists nobody" in run.error
    assert entries(org) == {"E-1": True}


def test_a_preview_shows_the_diff_and_writes_nothing(org, source):
    org.directory_url = serve_csv(source, HEADER + ADA + BOB)
    _db.session.commit()
    run = directory_sync.run_now(org, apply=False, now=utcnow())
    assert (run.status, run.added) == ("previewed", 2)
    assert entries(org) == {}


def test_a_scheduled_period_runs_once_under_two_workers(app, org, source):
    org.directory_url = serve_csv(source, HEADER + ADA)
    org.directory_sync_hours = 24
    _db.session.commit()
    now = utcnow()
    results = run_concurrently(app, lambda: len(directory_sync.run_due(now=now)), 2)
    assert sorted(results) == [0, 1]
    assert source.requests == ["/staff.csv"]  # read once
    assert directory_sync.run_due(now=now + timedelta(minutes=10)) == []  # same period: nothing
    assert len(directory_sync.run_due(now=now + timedelta(days=1))) == 1  # the next period: once more


def test_a_run_left_running_by_a_dead_worker_is_taken_over_after_its_lease(org, source):
    org.directory_url = serve_csv(source, HEADER + ADA)
    _db.session.commit()
    now = utcnow()
    slot = int(now.timestamp() // (24 * 3600))
    _db.session.add(
        DirectorySync(
            org_id=org.id,
            run_key=f"scheduled:{org.id}:24:{slot}",
            trigger="scheduled",
            status="running",
            source_url=org.directory_url,
            added=0,
            changed=0,
            removed=0,
            started_at=now,
            leased_until=now + timedelta(minutes=10),
        )
    )
    _db.session.commit()
    assert directory_sync.run_due(now=now) == []  # its worker may still be at it
    [run] = directory_sync.run_due(now=now + timedelta(minutes=11))
    assert run.status == "applied" and entries(org) == {"E-1": True}


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/staff.csv",
        "https://localhost/staff.csv",
        "https://[::1]/staff.csv",
        "https://10.0.0.5/staff.csv",
        "https://192.168.1.10/staff.csv",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]/staff.csv",
        "https://0.0.0.0/staff.csv",
        "https://2130706433/staff.csv",
    ],
)
def test_internal_addresses_are_refused_before_any_connection(org, url):
    with pytest.raises(SourceRefused, match="internal address"):
        directory_sync.fetch(url)
    with pytest.raises(ValidationError):
        directory_sync.save_source(org, url, 24)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://hr.example.com/staff.csv", "https://"),
        ("ftp://hr.example.com/x", "https://"),
        ("https://user:secret@hr.example.com/x", "no user name"),
        ("https:///staff.csv", "no host"),
        ("https://hr.example.com/a b", "without spaces"),
    ],
)
def test_other_unsafe_or_malformed_urls_are_refused(url, message, app, db):
    with pytest.raises(SourceRefused, match=message):
        directory_sync.fetch(url)


def test_trusted_loopback_is_refused_without_the_operators_say_so(org, source, app, monkeypatch):
    url = serve_csv(source, HEADER + ADA)
    monkeypatch.setitem(app.config, "AUTOTRACK_DIRECTORY_ALLOWED_NETWORKS", "")
    with pytest.raises(SourceRefused, match="internal address"):
        directory_sync.fetch(url)
    assert source.requests == []  # never connected


def test_every_redirect_is_checked_again(org, source):
    serve_csv(source, HEADER + ADA)
    source.routes["/moved"] = (302, {"Location": "/staff.csv"}, b"")
    assert directory_sync.fetch(source.base + "/moved").startswith(HEADER.encode())
    port = source.base.rsplit(":", 1)[1]
    for target in (
        f"https://127.0.0.2:{port}/staff.csv",
        "https://169.254.169.254/",
        f"http://127.0.0.1:{port}/staff.csv",
    ):
        source.routes["/evil"] = (302, {"Location": target}, b"")
        with pytest.raises(SourceRefused):
            directory_sync.fetch(source.base + "/evil")
    source.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(SourceRefused, match="redirected more than"):
        directory_sync.fetch(source.base + "/loop")


def test_size_and_time_limits(app, db, source, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_DIRECTORY_MAX_MB", 1)
    source.routes["/big"] = (200, {}, b"x" * (1024 * 1024 + 1))
    with pytest.raises(SourceRefused, match="larger than 1 MB"):
        directory_sync.fetch(source.base + "/big")

    def undeclared_big(handler):  # no Content-Length: the limit holds while reading
        handler.send_response(200)
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b"y" * 65536)

    source.routes["/stream"] = undeclared_big
    with pytest.raises(SourceRefused, match="larger than 1 MB"):
        directory_sync.fetch(source.base + "/stream")

    monkeypatch.setitem(app.config, "AUTOTRACK_DIRECTORY_TIMEOUT_SECONDS", 2)

    def drip(handler):  # a byte every 0.3 s: each read is quick, the whole is not
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(40):
                handler.wfile.write(b"z")
                handler.wfile.flush()
                time.sleep(0.3)  # real time: a slow source is what the timeout is tested against
        except OSError:
            pass

    source.routes["/drip"] = drip
    started = time.monotonic()
    with pytest.raises(SourceRefused, match="too long"):
        directory_sync.fetch(source.base + "/drip")
    assert time.monotonic() - started < 5


def test_a_certificate_not_signed_by_a_trusted_ca_is_refused(app, db, source, monkeypatch):
    url = serve_csv(source, HEADER + ADA)
    monkeypatch.setitem(app.config, "AUTOTRACK_DIRECTORY_CA_BUNDLE", None)  # the system's CAs only
    with pytest.raises(SourceRefused, match="certificate"):
        directory_sync.fetch(url)


def test_the_console_saves_the_source_previews_and_syncs(client, org, source):
    admin = factories.admin_of(org)
    login(client, admin)
    page = "/admin/directory_sync/"
    url = serve_csv(source, HEADER + ADA + BOB)
    response = post_form(
        client,
        page,
        {"directory_url": "https://127.0.0.9/x", "directory_sync_hours": "24", "action": "save"},
        token_from=page,
    )
    assert response.status_code == 422 and "internal address" in response.get_data(as_text=True)
    response = post_form(
        client,
        page,
        {"directory_url": url, "directory_sync_hours": "24", "action": "preview"},
        token_from=page,
        follow_redirects=True,
    )
    assert "syncing now would make 2 added" in response.get_data(as_text=True) and entries(org) == {}
    response = post_form(
        client,
        page,
        {"directory_url": url, "directory_sync_hours": "24", "action": "sync"},
        token_from=page,
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert "Directory synced: 2 added" in body and "E-2 · Bob · Builder · bob@acme.example" in body
    assert entries(org) == {"E-1": True, "E-2": True}


def test_another_organizations_runs_are_not_shown(client, org, other_org, source):
    other_org.directory_url = serve_csv(source, HEADER + ADA)
    _db.session.commit()
    directory_sync.run_now(other_org, apply=True, now=utcnow())
    login(client, factories.admin_of(org))
    assert "Ada" not in client.get("/admin/directory_sync/").get_data(as_text=True)
