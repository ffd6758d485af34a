"""The floor: the work of AutoTrack's three busiest API requests with the least code on the same
stack (Flask, Flask-SQLAlchemy, PyMySQL or mysqlclient, PyJWT), against AutoTrack's own database.

bench/api.py runs it under the same gunicorn settings beside AutoTrack, so the gap between the
two is what AutoTrack's own layers cost. Same environment as AutoTrack (SECRET_KEY,
DATABASE_URL): a token AutoTrack issues works here. Plain SQL, no ORM entities, no schemas:

- every request: the bearer JWT, checked with ONE SELECT (user, organization, role, memberships);
  the role's permissions and the organization's defaults are cached in-process;
- GET /api/v1/me: that SELECT's row as MeSchema's fields;
- GET /api/v1/tickets: the "open" view's first page, the same visibility and (on MariaDB) the
  same lane UNION as queues.page, only the columns TicketSchema shows, names joined;
- POST /api/v1/tickets: numbering in one statement, the ticket, its SLA steps, its audit event
  and the department's notifications, one transaction.

    DATABASE_URL=... gunicorn --chdir bench floor_app:app
"""

import hashlib
import os
import sys
from datetime import UTC, datetime, timedelta

import jwt
from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from config import sqlalchemy_engine_options  # noqa: E402  (AutoTrack's own pool settings)

URL = os.environ.get("DATABASE_URL", "sqlite:///" + os.path.abspath("instance/autotrack.db"))
MARIADB = URL.startswith("mysql")
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-key-change-me")
KEY = hashlib.sha256(b"autotrack api token:" + SECRET_KEY.encode()).digest()  # api_tokens.signing_key
ACTIVE = "('new', 'open', 'pending')"
PER_PAGE = 50
LABELS = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached", "paused": "Paused"}
LABELS |= {"met": "SLA met", "missed": "SLA missed"}
CLOCKS = (("first_response", "first_response_at"), ("resolution", "resolved_at"), ("next_response", "next_response_at"))

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = URL
# The same pool settings as AutoTrack (pre-ping, recycle, READ COMMITTED): a floor without the
# pre-ping's round trip per request would measure a setting, not the code.
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlalchemy_engine_options(URL)
db = SQLAlchemy(app)
permissions_of_role, defaults_of_org = {}, {}  # in-process caches, as AutoTrack may keep them


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection, _):
    """AutoTrack's SQLite settings (autotrack/__init__.py)."""
    if not MARIADB:
        cursor = connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def sql(statement, **params):
    return db.session.execute(text(statement), params)


def stored(moment):
    """A UTC time as AutoTrack stores it: naive (and as SQLAlchemy writes it on SQLite)."""
    naive = moment.replace(tzinfo=None)
    return naive if MARIADB else naive.isoformat(" ", "microseconds")


def aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value is not None else None


def authenticate():
    """The user's rows (one per membership) for the bearer token, or 401: ONE SELECT."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        abort(401)
    try:
        claims = jwt.decode(token.strip(), KEY, algorithms=["HS256"], issuer="autotrack",
                            options={"require": ["exp", "iat", "sub", "iss"]})  # fmt: skip
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError):
        abort(401)
    rows = sql(
        "SELECT u.id, u.name, u.email, u.org_id, u.role_id, u.password_hash, u.auth_version, r.name AS role,"
        " o.slug, o.name AS org_name, o.ticket_prefix, m.department_id, d.name AS department"
        " FROM users u JOIN organizations o ON o.id = u.org_id JOIN roles r ON r.id = u.role_id"
        " LEFT JOIN department_members m ON m.user_id = u.id LEFT JOIN departments d ON d.id = m.department_id"
        " WHERE u.id = :id AND u.is_active AND o.is_active",
        id=user_id,
    ).all()
    user = rows[0] if rows else None
    if (
        user is None
        or user.org_id != claims.get("org")
        or claims.get("av") != user.auth_version
        or claims.get("pv") != hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]
    ):
        abort(401)
    if user.role_id not in permissions_of_role:
        found = sql("SELECT permission FROM role_permissions WHERE role_id = :r", r=user.role_id).scalars()
        permissions_of_role[user.role_id] = frozenset(found)
    return user, rows, permissions_of_role[user.role_id]


@app.get("/api/v1/me")
def me():
    user, rows, _ = authenticate()
    departments = sorted(row.department for row in rows if row.department is not None)
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role,
            "organization": {"slug": user.slug, "name": user.org_name}, "departments": departments}  # fmt: skip


def duration_words(delta):
    minutes = int(abs(delta.total_seconds()) // 60)
    parts = [f"{v} {unit}{'' if v == 1 else 's'}" for v, unit in
             ((minutes // 1440, "day"), (minutes % 1440 // 60, "hour"), (minutes % 60, "minute")) if v]  # fmt: skip
    return " ".join(parts[:2]) or "less than a minute"


def sla_badge(t, now):
    """services/sla status_of, on the row."""
    if t["state"] not in ("new", "open"):
        missed = any(t[f"{clock}_breached_at"] for clock, _ in CLOCKS)
        state = "paused" if t["state"] == "pending" else "missed" if missed else "met"
        words = "clocks stopped while waiting" if state == "paused" else ""
        return {"state": state, "label": LABELS[state], "words": words, "due_at": None}
    running = [(aware(t[f"{c}_due_at"]), c) for c, stop in CLOCKS if t[stop] is None and t[f"{c}_due_at"]]
    breached = [(due, c) for due, c in running if due <= now or t[f"{c}_breached_at"]]
    at_risk = [(due, c) for due, c in running if (aware(t[f"{c}_warn_at"]) or due) <= now]
    if not running:
        return {"state": "met", "label": LABELS["met"], "words": "", "due_at": None}
    (due, clock), state = (
        (min(breached), "breached") if breached else (min(at_risk or running), "at_risk" if at_risk else "on_track")
    )
    how = "overdue by" if breached else "due in"
    words = f"{clock.replace('_', ' ')} {how} {duration_words(now - due)}"
    return {"state": state, "label": LABELS[state], "words": words, "due_at": due.isoformat()}


def item(t, now):
    """TicketSchema's fields, from a page row or a new ticket's values."""
    times = ("first_response_due_at", "first_response_at", "resolution_due_at", "resolved_at",
             "next_response_due_at", "next_response_at", "created_at", "updated_at")  # fmt: skip
    assignee = {"id": t["assignee_id"], "name": t["a_name"], "email": t["a_email"]} if t["assignee_id"] else None
    return {"number": t["number"], "reference": f"{t['ticket_prefix']}-{t['number']}", "title": t["title"],
            "description": t["description"], "state": t["state"], "status": t["status"], "priority": t["priority"],
            "category": t["category"], "department": t["department"],
            "requester": {"id": t["requester_id"], "name": t["r_name"], "email": t["r_email"]}, "assignee": assignee,
            "escalation_level": t["escalation_level"], **{k: t[k] and aware(t[k]).isoformat() for k in times},
            "sla": sla_badge(t, now)}  # fmt: skip


@app.get("/api/v1/tickets")
def tickets():
    """The "open" view's first page, newest first, as queues.page reads it for this user."""
    user, rows, permissions = authenticate()
    params, where, lanes = {"org": user.org_id, "uid": user.id}, "", None
    if "ticket.view_all" not in permissions:
        copied = sql("SELECT ticket_id FROM ticket_watchers WHERE user_id = :uid AND kind = 'cc'", **params).scalars()
        ids = lambda values: ", ".join(str(int(v)) for v in values)  # noqa: E731  (ints, inlined as AutoTrack does)
        copied = ids(copied)
        departments = ids(sorted({r.department_id for r in rows if r.department_id}))
        if "ticket.view_department" not in permissions:
            departments = ""
        ways = ["t.requester_id = :uid", "t.assignee_id = :uid"] + [f"t.id IN ({copied})"] * bool(copied)
        where = " AND (" + " OR ".join(ways + [f"t.department_id IN ({departments})"] * bool(departments)) + ")"
        if MARIADB and len(departments.split(",")) <= 40:  # queues._newest_in_each_lane
            lanes = ways[1:] + [f"t.department_id = {d}" for d in departments.split(", ") if d] + ways[:1]
    candidates = ""
    if lanes:
        one = "SELECT id FROM (SELECT t.id FROM tickets t{} WHERE t.org_id = :org AND {} AND t.state IN " + ACTIVE
        one += " ORDER BY t.id DESC LIMIT 51) AS l{}"
        hints = {"t.requester_id = :uid": " USE INDEX (ix_tickets_requester, ft_tickets_text)"}  # queues' index hints
        hint = lambda lane: hints.get(lane, " IGNORE INDEX (PRIMARY)" if "department_id" in lane else "")  # noqa: E731
        union = " UNION ".join(one.format(hint(lane), lane, n) for n, lane in enumerate(lanes))
        candidates = f" JOIN ({union}) AS lane_candidates ON lane_candidates.id = t.id"
    page = sql(
        "SELECT t.id, t.number, t.title, t.description, t.state, t.requester_id, t.assignee_id, t.escalation_level,"
        " t.first_response_due_at, t.first_response_warn_at, t.first_response_breached_at, t.first_response_at,"
        " t.resolution_due_at, t.resolution_warn_at, t.resolution_breached_at, t.resolved_at,"
        " t.next_response_due_at, t.next_response_warn_at, t.next_response_breached_at, t.next_response_at,"
        " t.created_at, t.updated_at, s.name AS status, p.name AS priority, c.path AS category,"
        " d.name AS department, o.ticket_prefix, r.name AS r_name, r.email AS r_email, a.name AS a_name,"
        " a.email AS a_email FROM tickets t" + candidates + " JOIN statuses s ON s.id = t.status_id"
        " JOIN priorities p ON p.id = t.priority_id JOIN departments d ON d.id = t.department_id"
        " JOIN organizations o ON o.id = t.org_id JOIN users r ON r.id = t.requester_id"
        " LEFT JOIN users a ON a.id = t.assignee_id LEFT JOIN categories c ON c.id = t.category_id"
        f" WHERE t.org_id = :org AND t.state IN {ACTIVE}{where} ORDER BY t.id DESC LIMIT {PER_PAGE + 1}",
        **params,
    ).all()
    now = datetime.now(UTC)
    cursor = str(page[PER_PAGE - 1].id) if len(page) > PER_PAGE else None
    return {"items": [item(t._mapping, now) for t in page[:PER_PAGE]], "next_cursor": cursor}


def org_defaults(org_id):
    """The default priority, department and "new" status, and the warning percent (cached)."""
    if org_id not in defaults_of_org:
        defaults_of_org[org_id] = sql(
            "SELECT p.id AS priority_id, p.name AS priority, p.first_response_minutes, p.resolution_minutes,"
            " p.calendar, d.id AS department_id, d.name AS department, s.id AS status_id, s.name AS status,"
            " o.sla_warning_percent FROM organizations o"
            " JOIN priorities p ON p.org_id = o.id AND p.is_default JOIN departments d ON d.org_id = o.id"
            " AND d.is_default JOIN statuses s ON s.org_id = o.id AND s.category = 'new' AND s.is_default"
            " WHERE o.id = :org",
            org=org_id,
        ).one()
    return defaults_of_org[org_id]


@app.post("/api/v1/tickets")
def create():
    """Numbering, the ticket, its SLA steps, its audit event and its notifications: one transaction."""
    user, _, permissions = authenticate()
    body = request.get_json(silent=True) or {}
    title, description = str(body.get("title", "")).strip()[:200], str(body.get("description", ""))[:20000]
    if "ticket.create" not in permissions:
        abort(403)
    if not title:
        abort(400)
    d, now = org_defaults(user.org_id), datetime.now(UTC)
    due = {c: now + timedelta(minutes=d._mapping[f"{c}_minutes"]) for c in ("first_response", "resolution")}
    warn = {c: now + timedelta(minutes=d._mapping[f"{c}_minutes"] * d.sla_warning_percent / 100) for c in due}
    if MARIADB:  # the number in the UPDATE's own answer
        number = sql("UPDATE organizations SET ticket_seq = LAST_INSERT_ID(ticket_seq + 1) WHERE id = :org",
                     org=user.org_id).lastrowid  # fmt: skip
    else:
        number = sql("UPDATE organizations SET ticket_seq = ticket_seq + 1 WHERE id = :org RETURNING ticket_seq",
                     org=user.org_id).scalar()  # fmt: skip
    ticket = {"org_id": user.org_id, "number": number, "title": title, "description": description,
              "requester_id": user.id, "r_name": user.name, "r_email": user.email, "department_id": d.department_id,
              "priority_id": d.priority_id, "status_id": d.status_id, "at": stored(now), **dict(d._mapping),
              "ticket_prefix": user.ticket_prefix, "state": "new", "category": None, "assignee_id": None,
              "escalation_level": 0, "created_at": now, "updated_at": now, "next_response_due_at": None}  # fmt: skip
    for c in due:
        ticket |= {f"{c}_due_at": due[c], f"{c}_warn_at": warn[c], f"{c}_breached_at": None, f"{c}_at": None,
                   f"{c}_due": stored(due[c]), f"{c}_warn": stored(warn[c]),
                   f"{c}_us": d._mapping[f"{c}_minutes"] * 60_000_000}  # fmt: skip
    ticket |= {"resolved_at": None, "next_response_at": None, "uid": user.id}
    ticket["id"] = sql(
        "INSERT INTO tickets (org_id, number, title, description, requester_id, department_id, priority_id,"
        " status_id, state, source, escalation_level, version, created_at, updated_at, first_response_due_at,"
        " first_response_warn_at, resolution_due_at, resolution_warn_at, sla_next_check_at, next_response_cycle,"
        " next_response_started_at) VALUES (:org_id, :number, :title, :description, :uid, :department_id,"
        " :priority_id, :status_id, 'new', 'web', 0, 1, :at, :at, :first_response_due, :first_response_warn,"
        " :resolution_due, :resolution_warn, :first_response_warn, 1, :at)",
        **ticket,
    ).lastrowid
    sql(
        "INSERT INTO sla_steps (org_id, ticket_id, clock, cycle, kind, at, base_at, working_us, calendar,"
        " target_minutes, due_at, warn_at, detail) VALUES (:org_id, :id, 'first_response', 0, 'start', :at, :at,"
        " :first_response_us, :calendar, :first_response_minutes, :first_response_due, :first_response_warn,"
        " :priority), (:org_id, :id, 'resolution', 0, 'start', :at, :at, :resolution_us, :calendar,"
        " :resolution_minutes, :resolution_due, :resolution_warn, :priority), (:org_id, :id, 'next_response', 1,"
        " 'start', :at, NULL, NULL, NULL, NULL, NULL, NULL, :priority)",
        **ticket,
    )
    sql(
        "INSERT INTO audit_events (org_id, ticket_id, actor_id, action, to_value, detail, created_at)"
        " VALUES (:org_id, :id, :uid, 'create', :status, :detail, :at)",
        detail=f"priority {d.priority}, department {d.department}",
        **ticket,
    )
    sql(  # notifications.notify: the department's active agents but the author, unless they opted out
        "INSERT INTO notifications (org_id, user_id, ticket_id, kind, message, created_at)"
        " SELECT :org_id, m.user_id, :id, 'new_ticket', :message, :at FROM department_members m"
        " JOIN users u ON u.id = m.user_id LEFT JOIN notification_preferences np ON np.user_id = m.user_id"
        " AND np.topic = 'work' WHERE m.department_id = :department_id AND m.role = 'agent' AND u.is_active"
        " AND m.user_id != :uid AND COALESCE(np.in_app, 1) = 1",
        message=f"New ticket {user.ticket_prefix}-{number}: {title}"[:500],
        **ticket,
    )
    db.session.commit()
    return jsonify(item(ticket, now)), 201
