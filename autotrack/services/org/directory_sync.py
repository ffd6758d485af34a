"""Directory sync: an organization's staff directory read from a URL (a CSV in the directory
import's format) by a scheduled job, or at once from the console.

Each run records its diff (added, changed, removed) and applies it all-or-nothing, in the
transaction that records the run: a source with one bad row changes nothing and says which line.
An entry the source stops listing is deactivated (it can no longer register), never deleted, and
no user account is touched.

The fetch is the risky part: a URL an admin types is read by our server, inside the network
(server-side request forgery). So: https only; every address the host resolves to must be public
(not loopback, private, link-local, multicast, reserved) unless the operator trusts its network
(AUTOTRACK_DIRECTORY_ALLOWED_NETWORKS); the connection goes to the address that was checked (no
second lookup to rebind); every redirect is checked the same way; the certificate is verified;
and the body has a size and a time limit.
"""

import functools
import ipaddress
import json
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import urllib3
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from autotrack.extensions import db
from autotrack.models import DirectorySync, Organization
from autotrack.services import audit
from autotrack.services.errors import DomainError, ValidationError
from autotrack.services.org import imports
from autotrack.services.sqlutil import insert_ignoring_duplicates

MAX_REDIRECTS = 3
URL_MAX = 500
HOURS_CHOICES = (1, 4, 12, 24, 168)
LEASE = timedelta(minutes=10)  # a run not finished by then (its worker died) may be run again
DIFF_KEPT = 2000  # diff lines stored per run; the counts are always whole


class SourceRefused(DomainError):
    """The directory source cannot or may not be read; nothing was changed."""

    status = 422
    code = "directory_source_refused"


# --- the source URL -----------------------------------------------------------------------------


def _https_parts(url):
    if not isinstance(url, str) or len(url) > URL_MAX or any(ord(c) < 33 for c in url):
        raise SourceRefused(f"Give an https:// address of at most {URL_MAX} characters, without spaces.")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise SourceRefused("The directory source must be an https:// address.")
    if not parts.hostname:
        raise SourceRefused("The address has no host name.")
    if parts.username or parts.password:
        raise SourceRefused("Put no user name or password in the address.")
    try:
        parts.port  # noqa: B018  (a bad port raises)
    except ValueError:
        raise SourceRefused("The address has an invalid port.") from None
    return parts


def _allowed_networks():
    networks = []
    for text in (current_app.config.get("AUTOTRACK_DIRECTORY_ALLOWED_NETWORKS") or "").split(","):
        if text.strip():
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
    return networks


def _public(address):
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def vetted_address(host, port):
    """The address to connect to for `host`: every address it resolves to must be public or in
    a network the operator trusts, else SourceRefused (before any connection is made)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise SourceRefused(f"The host {host} cannot be found.") from None
    allowed = _allowed_networks()
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if not (_public(address) or any(address in network for network in allowed)):
            raise SourceRefused(
                f"{host} resolves to {address}, an internal address: the directory source "
                "must be reachable on a public address."
            )
    return str(addresses[0])


def check_source(url):
    """The URL as it will be used, or ValidationError on `directory_url` (the console's form)."""
    url = (url or "").strip()
    try:
        parts = _https_parts(url)
        vetted_address(parts.hostname, parts.port or 443)
    except SourceRefused as error:
        raise ValidationError(error.message, {"directory_url": error.message}) from None
    return url


def save_source(org, url, hours, actor=None):
    """Set (or, with an empty URL, stop) the organization's directory source and its interval."""
    url = check_source(url) if (url or "").strip() else None
    if hours not in HOURS_CHOICES:
        raise ValidationError("Choose how often the directory is read.", {"directory_sync_hours": "Not a choice."})
    if (url, hours) != (org.directory_url, org.directory_sync_hours):
        org.directory_url, org.directory_sync_hours = url, hours
        audit.record(org.id, "directory_source", actor=actor, to_value=url or "none", detail=f"every {hours} h")
    db.session.flush()
    return org


# --- fetching -----------------------------------------------------------------------------------


def fetch(url):
    """The source's bytes, or SourceRefused saying why not (see the module's docstring)."""
    config = current_app.config
    limit = config["AUTOTRACK_DIRECTORY_MAX_MB"] * 1024 * 1024
    deadline = time.monotonic() + config["AUTOTRACK_DIRECTORY_TIMEOUT_SECONDS"]
    for _ in range(MAX_REDIRECTS + 1):
        parts = _https_parts(url)
        port = parts.port or 443
        address = vetted_address(parts.hostname, port)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SourceRefused("The directory source took too long to answer.")
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=config.get("AUTOTRACK_DIRECTORY_CA_BUNDLE"),
            maxsize=1,
            retries=False,
            timeout=urllib3.Timeout(connect=min(10.0, remaining), read=min(10.0, remaining)),
        )
        host_header = parts.hostname if parts.port in (None, 443) else f"{parts.hostname}:{port}"
        if ":" in parts.hostname:
            host_header = f"[{parts.hostname}]" + ("" if parts.port in (None, 443) else f":{port}")
        try:
            response = pool.urlopen(
                "GET",
                (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                headers={
                    "Host": host_header,
                    "Accept": "text/csv, text/plain",
                    "Accept-Encoding": "identity",
                    "User-Agent": "AutoTrack directory sync",
                },
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.SSLError as error:
            pool.close()
            raise SourceRefused(
                f"The directory source's certificate could not be verified ({_reason(error)})."
            ) from None
        except urllib3.exceptions.HTTPError as error:
            pool.close()
            raise SourceRefused(f"The directory source could not be read ({_reason(error)}).") from None
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise SourceRefused("The directory source redirected without saying where.")
                url = urljoin(url, location)  # checked like the first address at the loop's top
                continue
            if response.status != 200:
                raise SourceRefused(f"The directory source answered HTTP {response.status}.")
            if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                raise SourceRefused("The directory source sent a compressed answer; serve the CSV as it is.")
            return _read_limited(response, limit, deadline)
        except urllib3.exceptions.HTTPError as error:
            raise SourceRefused(f"The directory source could not be read ({_reason(error)}).") from None
        finally:
            response.release_conn()
            pool.close()
    raise SourceRefused(f"The directory source redirected more than {MAX_REDIRECTS} times.")


def _read_limited(response, limit, deadline):
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise SourceRefused(f"The directory is larger than {limit // (1024 * 1024)} MB.")
    body = bytearray()
    while True:
        chunk = response.read1(65536)  # whatever has arrived: a slow sender cannot hold us past the deadline
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise SourceRefused(f"The directory is larger than {limit // (1024 * 1024)} MB.")
        if time.monotonic() > deadline:
            raise SourceRefused("The directory source took too long to answer.")


def _reason(error):
    return str(getattr(error, "reason", None) or error)[:200]


# --- running ------------------------------------------------------------------------------------


def run_due(*, now):
    """The scheduled job: read every organization's source whose period has come, once per
    period whichever worker gets there first. Returns the runs made."""
    orgs = db.session.scalars(
        select(Organization).where(Organization.directory_url.is_not(None), Organization.is_active.is_(True))
    ).all()
    runs = []
    for org in orgs:
        slot = int(now.timestamp() // (org.directory_sync_hours * 3600))
        row = _claim(org, f"scheduled:{org.id}:{org.directory_sync_hours}:{slot}", "scheduled", now)
        if row is not None:
            runs.append(_process(org, row, apply=True, now=now))
    return runs


def run_now(org, *, apply, actor=None, now):
    """A run asked for in the console: `apply=False` only shows the diff."""
    if not org.directory_url:
        raise ValidationError("Set the directory source first.", {"directory_url": "Required."})
    row = _claim(
        org,
        f"{'manual' if apply else 'preview'}:{org.id}:{secrets.token_hex(8)}",
        "manual" if apply else "preview",
        now,
    )
    return _process(org, row, apply=apply, now=now, actor=actor)


def _claim(org, key, trigger, now):
    """The run row for `key`, committed, if this worker gets it: new, or left running by a worker
    whose lease ran out. None if another has it."""
    inserted = (
        db.session.execute(
            insert_ignoring_duplicates(DirectorySync).values(
                org_id=org.id,
                run_key=key,
                trigger=trigger,
                status="running",
                source_url=org.directory_url,
                added=0,
                changed=0,
                removed=0,
                started_at=now,
                leased_until=now + LEASE,
            )
        ).rowcount
        == 1
    )
    if not inserted:
        taken = (
            db.session.execute(
                update(DirectorySync)
                .where(
                    DirectorySync.run_key == key, DirectorySync.status == "running", DirectorySync.leased_until < now
                )
                .values(leased_until=now + LEASE, started_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
        if not taken:
            db.session.rollback()
            return None
    db.session.commit()
    return db.session.scalar(select(DirectorySync).where(DirectorySync.run_key == key))


def _process(org, row, *, apply, now, actor=None):
    """Read, compare, and (if `apply`) change the directory; the run row's outcome is committed
    with the changes, so a run is recorded applied exactly when its changes are there."""
    started = time.monotonic()  # finished_at = the caller's `now` + the time the run took
    _finish = functools.partial(_finish_run, now=now, started=started)
    try:
        data = fetch(row.source_url)
        report, handler, work = imports.plan(org, "directory", data)
    except DomainError as error:  # refused fetch, or a file that is not a directory CSV at all
        return _finish(row, "failed", error=error.message)
    if not report.ok:
        lines = [
            {"action": "error", "employee_id": "", "text": r.text, "detail": f"line {r.line}: {r.message}"}
            for r in report.errors
        ]
        return _finish(
            row,
            "failed",
            lines=lines,
            error=f"{len(report.errors)} row(s) in error: nothing was changed. The first: "
            f"line {report.errors[0].line}: {report.errors[0].message}",
        )
    if not report.rows:
        return _finish(
            row,
            "failed",
            error="The source lists nobody; nothing was changed (an empty export would otherwise remove everyone).",
        )
    lines, counts = [], {"added": 0, "changed": 0, "removed": 0}
    for result, obj, values in work:
        if obj is None or not obj.active:
            counts["added"] += 1
            lines.append(
                {
                    "action": "added",
                    "employee_id": values["employee_id"],
                    "text": result.text,
                    "detail": "" if obj is None else "listed again",
                }
            )
        elif result.action == "update":
            counts["changed"] += 1
            lines.append(
                {
                    "action": "changed",
                    "employee_id": values["employee_id"],
                    "text": result.text,
                    "detail": result.message,
                }
            )
    removed = [entry for key, entry in handler.by_id.items() if entry.active and key not in handler.seen]
    for entry in removed:
        counts["removed"] += 1
        lines.append(
            {
                "action": "removed",
                "employee_id": entry.employee_id,
                "text": f"{entry.employee_id} · {entry.first_name} · {entry.last_name} · {entry.email}",
                "detail": "can no longer register",
            }
        )
    if not apply:
        return _finish(row, "previewed", lines=lines, **counts)
    if not any(counts.values()):
        return _finish(row, "unchanged", lines=lines, **counts)
    try:
        with db.session.begin_nested():
            for result, obj, values in work:
                if result.action != "unchanged":
                    handler.apply(obj, values)
            for entry in removed:
                entry.active = False
            audit.record(
                org.id,
                "directory_sync",
                actor=actor,
                to_value=row.trigger,
                detail=f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed",
            )
            db.session.flush()
    except (DomainError, IntegrityError) as error:  # e.g. an upload of the same id meanwhile
        message = error.message if isinstance(error, DomainError) else "conflicts with a change saved meanwhile."
        return _finish(row, "failed", lines=lines, error=f"Nothing was changed: {message}")
    return _finish(row, "applied", lines=lines, **counts)


def _finish_run(row, status, *, now, started, lines=(), error=None, added=0, changed=0, removed=0):
    finished_at = now + timedelta(seconds=time.monotonic() - started)
    row.status, row.error, row.finished_at, row.leased_until = status, error, finished_at, None
    row.added, row.changed, row.removed = added, changed, removed
    row.diff = json.dumps(list(lines)[:DIFF_KEPT]) if lines else None
    db.session.commit()
    return row


def diff_lines(row):
    return json.loads(row.diff) if row.diff else []


def recent_runs(org, limit=20):
    return db.session.scalars(
        select(DirectorySync).where(DirectorySync.org_id == org.id).order_by(DirectorySync.id.desc()).limit(limit)
    ).all()
