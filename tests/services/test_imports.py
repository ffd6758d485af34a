"""CSV import: every kind, all or nothing, idempotent, and clear about what is wrong."""

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import (
    AuditEvent,
    Category,
    Department,
    DepartmentMember,
    DirectoryEntry,
    Holiday,
    Priority,
    User,
)
from autotrack.services import csvsafe
from autotrack.services.org import imports
from autotrack.services.org.imports import ImportRejected
from tests import factories


def csv(text, encoding="utf-8"):
    return text.replace("\n", "\r\n").encode(encoding)


def count(model, org):
    return _db.session.scalar(select(func.count()).select_from(model).where(model.org_id == org.id))


def run(org, kind, text, **kwargs):
    report = imports.run(org, kind, csv(text) if isinstance(text, str) else text, **kwargs)
    if report.ok and not kwargs.get("dry_run"):
        _db.session.commit()
    return report


def actions(report):
    return [(row.line, row.action) for row in report.rows]


def snapshot(org):
    """Everything an import may write, to show a refused import wrote nothing."""
    return {
        model.__name__: count(model, org)
        for model in (Department, DepartmentMember, Category, Priority, User, DirectoryEntry, Holiday, AuditEvent)
    }


# --- each kind: create, then re-import changes nothing ---------------------------------------

KIND_FILES = {
    "departments": "name,managers,agents,leads\nFacilities,boss@acme.example,ali@acme.example;sam@acme.example,"
    "ali@acme.example\nFinance,,,\n",
    "categories": "path,default_priority,default_department\nFinance/Payments/Refund failed,P1,Support\n"
    "Facilities/Heating,,\n",
    "priorities": "name,weight,first_response_minutes,resolution_minutes,calendar\nP0,5,5,60,24x7\n"
    "P5,1,9999,99999,business_hours\n",
    "users": "email,name,role,department,lead\nnew.agent@acme.example,New Agent,agent,Support,yes\n"
    "new.employee@acme.example,New Employee,employee,,\n",
    "directory": "employee_id,first_name,last_name,email,department,role\nE-1,Ada,Lovelace,ada@acme.example,Support,\n"
    "E-2,Alan,Turing,alan@acme.example,Support,agent\n",
    "holidays": "date,name\n2026-12-25,Christmas Day\n2027-01-01,New Year's Day\n",
}


@pytest.fixture
def staff(org):
    factories.make_user(org, "manager", email="boss@acme.example")
    factories.make_user(org, "agent", email="ali@acme.example")
    factories.make_user(org, "agent", email="sam@acme.example")


@pytest.mark.parametrize("kind", sorted(KIND_FILES))
def test_each_kind_imports_and_a_second_import_changes_nothing(org, staff, kind):
    before = snapshot(org)
    first = run(org, kind, KIND_FILES[kind])
    assert actions(first) == [(2, "create"), (3, "create")], first.rows
    assert first.applied
    written = snapshot(org)
    assert written != before
    again = run(org, kind, KIND_FILES[kind])
    assert actions(again) == [(2, "unchanged"), (3, "unchanged")], again.rows
    assert snapshot(org) == written  # not even an audit event


def test_imported_departments_carry_their_managers_agents_and_leads(org, staff):
    run(org, "departments", KIND_FILES["departments"])
    facilities = _db.session.scalar(
        select(Department).where(Department.org_id == org.id, Department.name == "Facilities")
    )
    members = {(m.user.email, m.role, m.is_lead) for m in facilities.members}
    assert members == {
        ("boss@acme.example", "manager", False),
        ("ali@acme.example", "agent", True),
        ("sam@acme.example", "agent", False),
    }
    # The file is the truth for the columns it has: dropping sam removes sam.
    report = run(org, "departments", "name,agents,leads\nFacilities,ali@acme.example,ali@acme.example\n")
    assert report.rows[0].action == "update" and "agents" in report.rows[0].message
    _db.session.expire_all()
    members = {(m.user.email, m.role) for m in facilities.members}
    assert members == {("boss@acme.example", "manager"), ("ali@acme.example", "agent")}


def test_imported_categories_drive_new_tickets(org):
    facilities = factories.make_department(org, "Facilities")
    run(org, "categories", "path;default_priority;default_department\nBuilding/Heating/Radiator cold;P1;Facilities\n")
    leaf = _db.session.scalar(
        select(Category).where(Category.org_id == org.id, Category.path == "Building/Heating/Radiator cold")
    )
    assert leaf.depth == 3 and leaf.parent.path == "Building/Heating" and leaf.parent.parent.depth == 1
    ticket = factories.make_ticket(factories.make_user(org), category=leaf)
    assert ticket.priority.name == "P1" and ticket.department_id == facilities.id


def test_a_changed_row_is_an_update_and_is_written(org):
    run(org, "priorities", "name,weight,first_response_minutes,resolution_minutes\nP2,3,30,360\n")
    p2 = factories.priority(org, "P2")
    assert p2.first_response_minutes == 30
    report = run(org, "priorities", "name,weight,first_response_minutes,resolution_minutes\nP2,3,30,360\n")
    assert actions(report) == [(2, "unchanged")]


def test_a_new_user_is_placed_in_their_department(org):
    run(org, "users", KIND_FILES["users"])
    agent = _db.session.scalar(select(User).where(User.email == "new.agent@acme.example"))
    assert agent.org_id == org.id and agent.role.builtin == "agent"
    assert [(m.department.name, m.is_lead) for m in agent.memberships] == [("Support", True)]
    assert agent.password_hash is None  # cannot sign in until a password is set


def test_dry_run_reports_but_writes_nothing(org):
    before = snapshot(org)
    report = run(org, "holidays", KIND_FILES["holidays"], dry_run=True)
    assert actions(report) == [(2, "create"), (3, "create")] and not report.applied
    _db.session.commit()
    assert snapshot(org) == before


# --- what files are accepted ----------------------------------------------------------------


def test_utf8_with_bom_cp1252_and_semicolons_are_read(org):
    run(org, "departments", b"\xef\xbb\xbf" + csv("Name\nCaf\u00e9 Ops\n"))
    run(org, "departments", csv("name;managers\nR\u00e9ception;\n", "cp1252"))
    names = set(_db.session.scalars(select(Department.name).where(Department.org_id == org.id)))
    assert {"Caf\u00e9 Ops", "R\u00e9ception"} <= names


def test_names_match_whatever_their_case_accents_or_spacing(org):
    run(org, "departments", "name\nCaf\u00e9 Ops\n")
    report = run(org, "departments", "name\ncafe   ops\nSUPPORT\n")
    assert [row.action for row in report.rows] == ["update", "update"]  # renamed, not duplicated
    assert count(Department, org) == 2


def test_formula_cells_are_neutralised_for_spreadsheets():
    assert [csvsafe.safe_cell(v) for v in ("=1+2", "+1", "-cmd", "@SUM(A1)", "plain", None, 5)] == [
        "'=1+2",
        "'+1",
        "'-cmd",
        "'@SUM(A1)",
        "plain",
        None,
        5,
    ]


def test_templates_are_importable_headers(org):
    for kind in imports.KINDS:
        template = imports.template_csv(kind)
        columns = template.splitlines()[0].split(",")
        assert columns[0] == imports.KINDS[kind].required[0]
        assert set(imports.KINDS[kind].required) <= set(columns)


# --- rejections: a clear message, nothing written -------------------------------------------


@pytest.mark.parametrize(
    "kind,text,message",
    [
        ("departments", "name,colour\nX,red\n", "Unknown column(s): colour"),
        ("priorities", "name,weight\nP9,1\n", "Missing required column(s): first_response_minutes, resolution_minutes"),
        ("departments", "name,name\nX,Y\n", "named twice"),
        ("departments", "", "empty"),
        ("nonsense", "name\nX\n", "Unknown import kind"),
    ],
)
def test_a_bad_file_is_rejected_whole(org, kind, text, message):
    before = snapshot(org)
    with pytest.raises(ImportRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        imports.run(org, kind, csv(text))
    _db.session.rollback()
    assert snapshot(org) == before


def test_too_big_or_too_long_files_are_rejected(org):
    with pytest.raises(ImportRejected, match="larger than 5 MB"):
        imports.run(org, "holidays", b"date,name\n" + b"x" * imports.MAX_BYTES)
    rows = "".join(f"E{i},A,B,a{i}@acme.example,Support\n" for i in range(imports.MAX_ROWS + 1))
    with pytest.raises(ImportRejected, match="more than 50,000 rows"):
        imports.run(org, "directory", csv("employee_id,first_name,last_name,email,department\n" + rows))
    with pytest.raises(ImportRejected, match="neither UTF-8 nor Windows-1252"):
        imports.run(org, "departments", b"name\n\x81\x8d\x8f\x90\x9d\n")


@pytest.mark.parametrize(
    "kind,row,message",
    [
        ("users", "not-an-email,Bad,agent,,", "email: 'not-an-email' is not a valid email address"),
        ("users", "x@acme.example,X,wizard,,", "role: unknown role 'wizard'"),
        ("users", "x@acme.example,X,agent,Nowhere,", "department: unknown department 'Nowhere'"),
        ("users", "x@acme.example,X,employee,Support,yes", "lead: only agents can lead"),
        ("categories", "A/B/C/D,,", "at most 3 levels deep"),
        ("categories", "A//C,,", "has an empty level"),
        ("categories", "A/B/a,,", "names the same category inside itself"),
        ("categories", "A,P9,", "unknown priority 'P9'"),
        ("priorities", "P9,x,1,2,", "weight: a whole number above 0"),
        ("priorities", "P9,1,60,30,", "cannot be longer than resolution_minutes"),
        ("priorities", "P9,1,1,2,weekdays", "calendar: write business_hours or 24x7"),
        ("priorities", "P9,1,1,2,,soon", "next_response_minutes: a whole number above 0"),
        ("holidays", "25/12/2026,Christmas", "write the date as YYYY-MM-DD"),
        ("directory", "E1,Ada,L,ada@acme.example,Nowhere,", "unknown department"),
        ("departments", "Ops,nobody@acme.example,,", "no user nobody@acme.example in this organization"),
    ],
)
def test_a_bad_row_fails_the_whole_file_with_its_line_number(org, kind, row, message):
    header = ",".join(imports.KINDS[kind].required + imports.KINDS[kind].optional)
    good = {
        "users": "good@acme.example,Good,agent,Support,",
        "categories": "Good/One,,",
        "priorities": "P7,1,10,20,",
        "holidays": "2027-05-01,Labour Day",
        "directory": "E0,Good,One,good@acme.example,Support,",
        "departments": "Good dept,,,",
    }[kind]
    before = snapshot(org)
    report = run(org, kind, f"{header}\n{good}\n{row}\n")
    assert not report.ok and not report.applied
    assert actions(report) == [(2, "create"), (3, "error")]
    assert message in report.rows[1].message
    assert snapshot(org) == before  # the good row was not written either


def test_a_key_given_twice_is_an_error(org):
    report = run(org, "holidays", "date,name\n2026-12-25,Christmas\n2026-12-25,Xmas\n")
    assert actions(report) == [(2, "create"), (3, "error")]
    assert "line 2" in report.rows[1].message


def test_an_email_of_another_organization_is_refused(org, other_org):
    factories.make_user(other_org, "agent", email="taken@globex.example")
    report = run(org, "users", "email,name,role\ntaken@globex.example,T,agent\n")
    assert actions(report) == [(2, "error")] and "This address cannot be used." in report.rows[0].message
    assert _db.session.scalar(select(User.org_id).where(User.email == "taken@globex.example")) == other_org.id


def test_the_last_admin_cannot_be_demoted_by_import(org):
    report = run(org, "users", "email,name,role\nadmin@acme.example,Admin,employee\n")
    assert not report.ok and "admin" in report.rows[-1].message.lower()
    _db.session.expire_all()
    assert factories.admin_of(org).role.builtin == "org_admin"


def test_imports_never_touch_another_organization(org, other_org):
    run(other_org, "departments", "name\nFacilities\n")
    report = run(org, "departments", "name\nFacilities\n")
    assert actions(report) == [(2, "create")]  # their Facilities is not ours
    assert count(Department, org) == 2 and count(Department, other_org) == 2


# --- the command line ----------------------------------------------------------------------


def test_cli_prints_each_line_and_fails_without_writing(runner, org, tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("date,name\n2026-12-25,Christmas\nsoon,Party\n")
    result = runner.invoke(args=["autotrack", "import", "holidays", str(path), "--org", "acme"])
    assert result.exit_code != 0
    assert "line 2: create" in result.output and "line 3: error: date: write the date as YYYY-MM-DD" in result.output
    assert count(Holiday, org) == 0


def test_cli_dry_run_then_import(runner, org, tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text(KIND_FILES["holidays"])
    dry = runner.invoke(args=["autotrack", "import", "holidays", str(path), "--org", "acme", "--dry-run"])
    assert dry.exit_code == 0 and "dry run, nothing written" in dry.output and count(Holiday, org) == 0
    real = runner.invoke(args=["autotrack", "import", "holidays", str(path), "--org", "acme"])
    assert real.exit_code == 0 and "2 create" in real.output and count(Holiday, org) == 2
    unknown = runner.invoke(args=["autotrack", "import", "holidays", str(path), "--org", "nope"])
    assert unknown.exit_code != 0


def test_an_imported_role_change_to_employee_ends_department_work(org, staff):
    report = run(org, "users", "email,name,role\nali@acme.example,Ali,employee\n")
    assert actions(report) == [(2, "update")]
    _db.session.expire_all()
    ali = _db.session.scalar(select(User).where(User.email == "ali@acme.example"))
    assert ali.role.builtin == "employee" and ali.memberships == []
