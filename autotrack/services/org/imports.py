"""CSV import of an organization's settings, shared by the console and `flask autotrack import`.

`plan()` reads a whole file and says, for every row, what importing it would do (create,
update, unchanged, or an error with its line number) without writing anything. `run()` applies
the plan only when no row has an error, so an import is all or nothing. Rows are matched by
their natural key (department name, category path, email, …), so importing the same file
twice changes nothing the second time.

File rules (DESIGN.md): a header row, column names case-insensitive, UTF-8 (BOM or not) or
Excel's cp1252, comma or semicolon; at most 5 MB and 50,000 rows.
"""

import csv
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from autotrack.extensions import db
from autotrack.models import (
    BusinessCalendar,
    Category,
    Department,
    DirectoryEntry,
    Holiday,
    MemberRole,
    Priority,
    Role,
    SlaCalendar,
    User,
)
from autotrack.services import audit, policy
from autotrack.services.errors import DomainError, NotFound
from autotrack.services.org import orgs
from autotrack.services.people import password_links, users
from autotrack.services.tickets import categories

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
LIST_SEPARATORS = (";", "|")


class ImportRejected(DomainError):
    """The file as a whole cannot be read (size, encoding, header): nothing is written."""

    status = 422
    code = "import_rejected"


class RowError(Exception):
    pass


def natural_key(text):
    """How names are compared: case, accents and repeated spaces do not make a new name.
    (MariaDB's utf8mb4_unicode_ci compares this way; here SQLite behaves the same.)"""
    decomposed = unicodedata.normalize("NFKD", " ".join((text or "").split()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def clean(text):
    return " ".join((text or "").split())


@dataclass
class RowResult:
    line: int
    text: str  # the row as read, for people to recognise it
    action: str  # create | update | unchanged | error
    message: str = ""


@dataclass
class ImportReport:
    kind: str
    rows: list = field(default_factory=list)
    applied: bool = False

    @property
    def errors(self):
        return [row for row in self.rows if row.action == "error"]

    @property
    def ok(self):
        return not self.errors

    def counts(self):
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    def summary(self):
        counts = self.counts()
        text = ", ".join(f"{n} {action}" for action, n in counts.items())
        if not self.ok:
            return f"{text}: nothing imported, fix the rows in error and import again."
        return f"{text}: {'imported' if self.applied else 'dry run, nothing written'}."


# --- reading the file ---------------------------------------------------------------------------


def decode(data):
    if len(data) > MAX_BYTES:
        raise ImportRejected(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportRejected("The file is neither UTF-8 nor Windows-1252 (Excel) text.") from None


def read_rows(data, spec):
    """(line number, {column: value}) for every non-blank row; ImportRejected for a bad file."""
    text = decode(data)
    if "\x00" in text:
        raise ImportRejected("The file contains binary data; save it as CSV text.")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportRejected("The file is empty: the first line must name the columns.")
        columns = [cell.strip().lower().replace(" ", "_") for cell in header]
        _check_header(columns, spec)
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRejected(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
            rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise ImportRejected(f"Line {reader.line_num}: the file is not valid CSV ({error}).") from None
    return columns, rows


def _check_header(columns, spec):
    known = set(spec.required) | set(spec.optional)
    unknown = [name for name in columns if name not in known]
    if unknown:
        raise ImportRejected(
            f"Unknown column(s): {', '.join(unknown)}. The {spec.kind} columns are: "
            f"{', '.join(spec.required + spec.optional)}."
        )
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        raise ImportRejected(f"Column(s) named twice: {', '.join(duplicated)}.")
    missing = [name for name in spec.required if name not in columns]
    if missing:
        raise ImportRejected(f"Missing required column(s): {', '.join(missing)}.")


# --- the kinds ----------------------------------------------------------------------------------


class Kind:
    """One importable kind. `check` turns a row into clean values (or raises RowError);
    `changes` compares them with the existing row; `apply` writes them."""

    kind = ""
    required = ()
    optional = ()
    example = ()

    def __init__(self, org):
        self.org = org
        self.seen = {}  # natural key -> first line, to refuse a key given twice

    def key(self, values):
        raise NotImplementedError

    def existing(self, values):
        raise NotImplementedError

    def check(self, row):
        raise NotImplementedError

    def changes(self, obj, values):
        return [name for name, value in values.items() if getattr(obj, name) != value]

    def apply(self, obj, values):
        for name, value in values.items():
            setattr(obj, name, value)

    # helpers shared by the kinds
    def _departments(self):
        if not hasattr(self, "_department_map"):
            self._department_map = {
                natural_key(d.name): d
                for d in db.session.scalars(select(Department).where(Department.org_id == self.org.id))
            }
        return self._department_map

    def department(self, name, column="department"):
        department = self._departments().get(natural_key(name))
        if department is None:
            raise RowError(f"{column}: unknown department {clean(name)!r}.")
        return department

    def _users(self):
        if not hasattr(self, "_user_map"):
            self._user_map = {u.email: u for u in db.session.scalars(select(User).where(User.org_id == self.org.id))}
        return self._user_map

    def role(self, name):
        try:
            return orgs.role_by_key(self.org, name)
        except DomainError:
            roles = db.session.scalars(select(Role.name).where(Role.org_id == self.org.id)).all()
            raise RowError(f"role: unknown role {clean(name)!r} (one of: {', '.join(roles)}).") from None


def _email(value, column="email"):
    try:
        # Intranet addresses are fine: single-label domains and test domains are allowed.
        return validate_email(
            value.strip(), check_deliverability=False, test_environment=True, globally_deliverable=False
        ).normalized.lower()
    except EmailNotValidError as error:
        raise RowError(f"{column}: {value.strip()!r} is not a valid email address ({error}).") from None


def _required(row, name, max_length=None):
    value = clean(row.get(name))
    if not value:
        raise RowError(f"{name}: required.")
    if max_length and len(value) > max_length:
        raise RowError(f"{name}: at most {max_length} characters.")
    return value


def _positive_int(row, name):
    value = (row.get(name) or "").strip()
    if not value.isdigit() or int(value) <= 0 or int(value) > 10_000_000:
        raise RowError(f"{name}: a whole number above 0 is needed, not {value!r}.")
    return int(value)


def _yes_no(row, name):
    value = (row.get(name) or "").strip().lower()
    if value in ("", "no", "n", "false", "0"):
        return False
    if value in ("yes", "y", "true", "1"):
        return True
    raise RowError(f"{name}: write yes or no, not {value!r}.")


class Departments(Kind):
    kind = "departments"
    required = ("name",)
    optional = ("managers", "agents", "leads")
    example = (
        ("name", "managers", "agents", "leads"),
        ("Facilities", "maria@example.com", "ali@example.com;sam@example.com", "ali@example.com"),
    )

    def key(self, values):
        return natural_key(values["name"])

    def existing(self, values):
        return self._departments().get(self.key(values))

    def check(self, row):
        values = {"name": _required(row, "name", 120)}
        members = {}
        for column in ("managers", "agents", "leads"):
            if column in row:
                members[column] = self._emails(row[column], column)
        if "leads" in members:
            agents = set(members.get("agents", ()))
            current = None if "agents" in members else self._current_agents(values)
            for email in members["leads"]:
                if email not in agents and (current is None or email not in current):
                    raise RowError(f"leads: {email} must also be one of the department's agents.")
        values["members"] = members
        return values

    def _emails(self, cell, column):
        emails = []
        for part in cell.replace("|", ";").replace(",", ";").split(";"):
            if not part.strip():
                continue
            email = _email(part, column)
            user = self._users().get(email)
            if user is None:
                raise RowError(f"{column}: no user {email} in this organization (import the users first).")
            if column == "managers" and not policy.can_manage_departments(user):
                raise RowError(f"{column}: {email} is not a manager.")
            if column != "managers" and not policy.is_staff(user):
                raise RowError(f"{column}: {email} is an employee, not support staff.")
            emails.append(email)
        return list(dict.fromkeys(emails))

    def _current_agents(self, values):
        department = self.existing(values)
        if department is None:
            return set()
        return {m.user.email for m in department.members if m.role == MemberRole.AGENT}

    def _current_members(self, department):
        current = {"managers": [], "agents": [], "leads": []}
        for member in department.members:
            if member.role == MemberRole.MANAGER:
                current["managers"].append(member.user.email)
            else:
                current["agents"].append(member.user.email)
                if member.is_lead:
                    current["leads"].append(member.user.email)
        return current

    def changes(self, obj, values):
        changed = ["name"] if obj.name != values["name"] else []
        current = self._current_members(obj)
        for column, emails in values["members"].items():
            if set(emails) != set(current[column]):
                changed.append(column)
        return changed

    def apply(self, obj, values):
        department = obj or orgs.create_department(self.org, values["name"])
        department.name = values["name"]
        users_by_email = self._users()
        groups = {column: [users_by_email[email] for email in emails] for column, emails in values["members"].items()}
        if groups:
            orgs.set_department_members(department, **groups)
        return department


class Categories(Kind):
    kind = "categories"
    required = ("path",)
    optional = ("default_priority", "default_department")
    example = (
        ("path", "default_priority", "default_department"),
        ("Finance/Payments/Refund failed", "P2", "Support"),
        ("Facilities/Heating", "", "Support"),
    )

    def __init__(self, org):
        super().__init__(org)
        self.nodes = {
            natural_key(c.path): c for c in db.session.scalars(select(Category).where(Category.org_id == org.id))
        }
        self.priorities = {
            natural_key(p.name): p for p in db.session.scalars(select(Priority).where(Priority.org_id == org.id))
        }
        self.planned = set()  # paths this file creates, ancestors included

    def key(self, values):
        return natural_key(values["path"])

    def existing(self, values):
        return self.nodes.get(self.key(values))

    def check(self, row):
        raw = (row.get("path") or "").replace("›", "/").replace(">", "/")
        parts = [clean(part) for part in raw.split("/")]
        if not raw.strip():
            raise RowError("path: required.")
        if any(not part for part in parts):
            raise RowError(f"path: {raw.strip()!r} has an empty level.")
        if len(parts) > Category.MAX_DEPTH:
            raise RowError(
                f"path: categories go at most {Category.MAX_DEPTH} levels deep; {raw.strip()!r} has {len(parts)}."
            )
        if any(len(part) > 80 for part in parts):
            raise RowError("path: each level is at most 80 characters.")
        keys = [natural_key(part) for part in parts]
        if len(set(keys)) != len(keys):
            raise RowError(f"path: {raw.strip()!r} names the same category inside itself.")
        values = {"parts": parts, "path": "/".join(parts)}
        priority = clean(row.get("default_priority"))
        if priority:
            found = self.priorities.get(natural_key(priority))
            if found is None:
                raise RowError(
                    f"default_priority: unknown priority {priority!r} "
                    f"(one of: {', '.join(p.name for p in self.priorities.values())})."
                )
            values["default_priority_id"] = found.id
        elif "default_priority" in row:
            values["default_priority_id"] = None
        department = clean(row.get("default_department"))
        if department:
            values["default_department_id"] = self.department(department, "default_department").id
        elif "default_department" in row:
            values["default_department_id"] = None
        for depth in range(1, len(parts) + 1):
            self.planned.add(natural_key("/".join(parts[:depth])))
        return values

    def changes(self, obj, values):
        return [
            name
            for name in ("default_priority_id", "default_department_id")
            if name in values and getattr(obj, name) != values[name]
        ]

    def apply(self, obj, values):
        parent = None
        for depth in range(1, len(values["parts"]) + 1):
            path_key = natural_key("/".join(values["parts"][:depth]))
            node = self.nodes.get(path_key)
            if node is None:
                node = Category(org_id=self.org.id, name=values["parts"][depth - 1], parent=parent)
                categories.place(node)
                db.session.add(node)
                self.nodes[path_key] = node
            parent = node
        for name in ("default_priority_id", "default_department_id"):
            if name in values:
                setattr(parent, name, values[name])
        return parent


class Priorities(Kind):
    kind = "priorities"
    required = ("name", "weight", "first_response_minutes", "resolution_minutes")
    optional = ("calendar", "next_response_minutes")
    example = (
        ("name", "weight", "first_response_minutes", "resolution_minutes", "calendar", "next_response_minutes"),
        ("P1", "4", "15", "120", "24x7", "60"),
        ("P3", "2", "240", "1440", "business_hours", ""),
    )
    CALENDARS = {
        "business_hours": SlaCalendar.BUSINESS_HOURS,
        "business hours": SlaCalendar.BUSINESS_HOURS,
        "24x7": SlaCalendar.ALWAYS,
        "24/7": SlaCalendar.ALWAYS,
    }

    def __init__(self, org):
        super().__init__(org)
        self.by_name = {
            natural_key(p.name): p for p in db.session.scalars(select(Priority).where(Priority.org_id == org.id))
        }

    def key(self, values):
        return natural_key(values["name"])

    def existing(self, values):
        return self.by_name.get(self.key(values))

    def check(self, row):
        values = {
            "name": _required(row, "name", 40),
            "weight": _positive_int(row, "weight"),
            "first_response_minutes": _positive_int(row, "first_response_minutes"),
            "resolution_minutes": _positive_int(row, "resolution_minutes"),
        }
        if values["first_response_minutes"] > values["resolution_minutes"]:
            raise RowError("first_response_minutes: cannot be longer than resolution_minutes.")
        calendar = (row.get("calendar") or "").strip().lower()
        if calendar:
            if calendar not in self.CALENDARS:
                raise RowError(f"calendar: write business_hours or 24x7, not {calendar!r}.")
            values["calendar"] = self.CALENDARS[calendar]
        if "next_response_minutes" in row:  # the update clock: empty means none
            values["next_response_minutes"] = (
                _positive_int(row, "next_response_minutes") if (row["next_response_minutes"] or "").strip() else None
            )
        return values

    def apply(self, obj, values):
        if obj is None:
            obj = Priority(org_id=self.org.id, calendar=SlaCalendar.BUSINESS_HOURS)
            db.session.add(obj)
        super().apply(obj, values)
        return obj


class Users(Kind):
    kind = "users"
    required = ("email", "name", "role")
    optional = ("department", "lead")
    example = (
        ("email", "name", "role", "department", "lead"),
        ("ali@example.com", "Ali Agent", "agent", "Support", "yes"),
        ("eve@example.com", "Eve Employee", "employee", "", "no"),
    )

    def key(self, values):
        return values["email"]

    def existing(self, values):
        return self._users().get(values["email"])

    def check(self, row):
        email = _email(row.get("email") or "")
        other = db.session.scalar(select(User.org_id).where(User.email == email))
        if other is not None and other != self.org.id:
            raise RowError(f"email: {users.EMAIL_REFUSED}")  # never that another organization has it
        values = {"email": email, "name": _required(row, "name", 120), "role": self.role(row.get("role"))}
        department_name = clean(row.get("department"))
        values["department"] = self.department(department_name) if department_name else None
        values["lead"] = _yes_no(row, "lead")
        if values["lead"] and policy.department_seat(values["role"]) != MemberRole.AGENT:
            raise RowError("lead: only agents can lead a department.")
        if values["lead"] and values["department"] is None:
            raise RowError("lead: a lead needs a department.")
        return values

    def _placement(self, user):
        """(department id, is lead) as the user's role sees it."""
        seat = policy.department_seat(user)
        if seat == MemberRole.MANAGER:
            ids = [m.department_id for m in user.memberships if m.role == MemberRole.MANAGER]
            return (ids[0] if ids else None), False
        if seat == MemberRole.AGENT:
            agent = [m for m in user.memberships if m.role == MemberRole.AGENT]
            return (agent[0].department_id, agent[0].is_lead) if agent else (None, False)
        return user.department_id, False

    def changes(self, obj, values):
        changed = [name for name in ("name",) if getattr(obj, name) != values[name]]
        if obj.role_id != values["role"].id:
            changed.append("role")
        department_id, lead = self._placement(obj)
        if values["department"] is not None and department_id != values["department"].id:
            changed.append("department")
        if values["department"] is not None and lead != values["lead"]:
            changed.append("lead")
        return changed

    def apply(self, obj, values):
        if obj is None:
            user = orgs.create_user(
                self.org,
                values["email"],
                role_key=values["role"].builtin or values["role"].name,
                name=values["name"],
                department=values["department"],
                lead=values["lead"],
            )
            password_links.invite(user, now=user.created_at)  # a set-password email through the outbox
            self._users()[user.email] = user
            return user
        obj.name = values["name"]
        obj.role = values["role"]
        users.ensure_an_admin_remains(obj)
        users.drop_memberships_the_role_no_longer_allows(obj)
        department = values["department"]
        if department is not None:
            seat = policy.department_seat(obj)
            if seat is not None:
                orgs.add_member(department, obj, seat, lead=values["lead"])
            else:
                obj.department_id = department.id
        return obj


class Directory(Kind):
    kind = "directory"
    required = ("employee_id", "first_name", "last_name", "email", "department")
    optional = ("role",)
    example = (
        ("employee_id", "first_name", "last_name", "email", "department", "role"),
        ("E-1001", "Ada", "Lovelace", "ada@example.com", "Support", ""),
    )

    def __init__(self, org):
        super().__init__(org)
        self.by_id = {
            natural_key(e.employee_id): e
            for e in db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.org_id == org.id))
        }

    def key(self, values):
        return natural_key(values["employee_id"])

    def existing(self, values):
        return self.by_id.get(self.key(values))

    def check(self, row):
        values = {
            "employee_id": _required(row, "employee_id", 40),
            "first_name": _required(row, "first_name", 80),
            "last_name": _required(row, "last_name", 80),
            "email": _email(row.get("email") or ""),
            "department_id": self.department(_required(row, "department")).id,
        }
        role = clean(row.get("role"))
        values["role_id"] = self.role(role).id if role else None
        values["active"] = True  # listed again after a directory sync removed them: back
        return values

    def apply(self, obj, values):
        if obj is None:
            obj = DirectoryEntry(org_id=self.org.id)
            db.session.add(obj)
        super().apply(obj, values)
        return obj


class Holidays(Kind):
    kind = "holidays"
    required = ("date", "name")
    example = (("date", "name"), ("2026-12-25", "Christmas Day"), ("2027-01-01", "New Year's Day"))

    def __init__(self, org):
        super().__init__(org)
        self.calendar_id = db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
        self.by_date = {h.date: h for h in db.session.scalars(select(Holiday).where(Holiday.org_id == org.id))}

    def key(self, values):
        return values["date"].isoformat()

    def existing(self, values):
        return self.by_date.get(values["date"])

    def check(self, row):
        text = (row.get("date") or "").strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise RowError(f"date: write the date as YYYY-MM-DD, not {text!r}.") from None
        if len(text) != 10:
            raise RowError(f"date: write the date as YYYY-MM-DD, not {text!r}.")
        return {"date": day, "name": _required(row, "name", 120)}

    def apply(self, obj, values):
        if obj is None:
            obj = Holiday(org_id=self.org.id, calendar_id=self.calendar_id)
            db.session.add(obj)
        super().apply(obj, values)
        return obj


KINDS = {kind.kind: kind for kind in (Departments, Categories, Priorities, Users, Directory, Holidays)}


def spec_for(kind):
    try:
        return KINDS[kind]
    except KeyError:
        raise ImportRejected(f"Unknown import kind {kind!r}; one of: {', '.join(KINDS)}.") from None


def template_csv(kind):
    """The downloadable template: the header and example rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in spec_for(kind).example:
        writer.writerow(row)
    return out.getvalue()


# --- planning and running -----------------------------------------------------------------------


def plan(org, kind, data):
    """What importing `data` would do, row by row; writes nothing.

    Returns the report, the kind's handler and the work list (row result, existing object,
    clean values) that `run` applies."""
    spec = spec_for(kind)
    columns, rows = read_rows(data, spec)
    handler = spec(org)
    report, work = ImportReport(kind), []
    with db.session.no_autoflush:
        for line, cells in rows:
            if len(cells) > len(columns):
                report.rows.append(RowResult(line, "", "error", f"{len(cells)} cells but {len(columns)} columns."))
                continue
            row = {column: cells[i] if i < len(cells) else "" for i, column in enumerate(columns)}
            row_text = " · ".join(clean(cell) for cell in cells if cell.strip())[:200]  # the row, as shown
            try:
                values = handler.check(row)
            except RowError as error:
                report.rows.append(RowResult(line, row_text, "error", str(error)))
                continue
            key = handler.key(values)
            if key in handler.seen:
                report.rows.append(
                    RowResult(line, row_text, "error", f"the same {spec.required[0]} as line {handler.seen[key]}.")
                )
                continue
            handler.seen[key] = line
            obj = handler.existing(values)
            if obj is None:
                report.rows.append(RowResult(line, row_text, "create"))
            else:
                changed = handler.changes(obj, values)
                report.rows.append(
                    RowResult(
                        line,
                        row_text,
                        "update" if changed else "unchanged",
                        f"changes {', '.join(changed)}" if changed else "",
                    )
                )
            work.append((report.rows[-1], obj, values))
    return report, handler, work


def run(org, kind, data, *, dry_run=False, actor=None):
    """Plan the import and, unless it is a dry run or a row is in error, apply every row.

    The caller commits; on any error the session is rolled back here, so nothing is written.
    """
    report, handler, work = plan(org, kind, data)
    if dry_run or not report.ok:
        db.session.rollback()
        return report
    try:
        for result, obj, values in work:
            if result.action == "unchanged":
                continue
            handler.apply(obj, values)
            db.session.flush()
        counts = report.counts()
        if counts["create"] or counts["update"]:
            audit.record(
                org.id,
                "import",
                actor=actor,
                to_value=kind,
                detail=f"{counts['create']} created, {counts['update']} updated, {counts['unchanged']} unchanged",
            )
            db.session.flush()
    except (DomainError, IntegrityError) as error:
        # Checked rows can still collide with a change made meanwhile: refuse the whole file.
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else "conflicts with a record saved meanwhile."
        report.rows.append(RowResult(result.line, result.text, "error", message))
        return report
    report.applied = True
    return report


# --- files waiting between the console's preview and its confirmation --------------------------

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
STAGED_FOR = timedelta(hours=6)


def _staging_dir():
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage(org_id, data, *, now):
    """Keep an uploaded file until the admin confirms its preview; returns its token."""
    folder = _staging_dir()
    cutoff = (now - STAGED_FOR).timestamp()
    for old in folder.glob("*.csv"):  # forgotten previews
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{org_id}-{token}.csv").write_bytes(data)
    return token


def staged(org_id, token):
    """The staged file of this organization (another organization's token finds nothing)."""
    path = _staged_path(org_id, token)
    if path is None or not path.exists():
        raise NotFound("That upload has expired; upload the file again.")
    return path.read_bytes()


def discard(org_id, token):
    path = _staged_path(org_id, token)
    if path is not None:
        path.unlink(missing_ok=True)


def _staged_path(org_id, token):
    if not _TOKEN_RE.match(token or ""):
        return None
    return _staging_dir() / f"{int(org_id)}-{token}.csv"
