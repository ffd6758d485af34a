"""Each rule has one home, and these tests keep it so (read statically from the source, ast).

- Who is staff, who may manage a department, who is an org admin: decided from permissions in
  `services/policy.py`. No code compares a role's portal, built-in key or name.
- Every id that comes from outside (a form, the URL, the API, a mail header) is resolved through
  `services/tenancy.py` (`get_scoped`, `find_scoped`, `ticket_for`), which scopes it to an
  organization and refuses what cannot be an id: no `session.get` on a value that is not a
  column of a row already loaded, no `filter_by(id=...)`.
- Outbox emails, audit events and notifications each have one writer, their service (`outbox`,
  `audit`, `notifications`); nothing else builds or inserts their rows.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autotrack"

# (file, function) -> why a comparison of role attributes there is not a decision about people.
ROLE_COMPARISON_ALLOWED = {
    (
        "autotrack/services/people/roles.py",
        "apply",
    ): "the role definitions: the built-in org admin role keeps every permission; a role's portal must exist",
    (
        "autotrack/services/org/orgs.py",
        "role_by_key",
    ): "finds the role a CSV row or the CLI names (by built-in key or name); decides nothing",
}
ROLE_ATTRIBUTES = {"portal", "builtin"}


def _python_files():
    return sorted(
        path for path in PACKAGE.rglob("*.py") if path.relative_to(ROOT).as_posix() != "autotrack/services/policy.py"
    )


def _unwrap(node):
    """`role.name.lower()` -> `role.name`: a method called on the compared value still compares it."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return node


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _is_role_attribute(node):
    """`x.portal`, `x.builtin`, a bare `portal`, or the name of a role (`role.name`, `user.role.name`)."""
    node = _unwrap(node)
    if isinstance(node, ast.Name):
        return node.id == "portal"
    if not isinstance(node, ast.Attribute):
        return False
    if node.attr in ROLE_ATTRIBUTES:
        return True
    return node.attr == "name" and _dotted(node.value).split(".")[-1].lower().endswith("role")


def _role_comparisons(path):
    """(line, function, source) of each comparison on a role's portal, built-in key or name."""
    source = path.read_text()
    tree = ast.parse(source, str(path))
    found = []

    def visit(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        hit = False
        if isinstance(node, ast.Compare):
            hit = any(_is_role_attribute(operand) for operand in [node.left, *node.comparators])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"in_", "not_in", "notin_"}
        ):
            hit = _is_role_attribute(node.func.value)  # SQL: Role.portal.in_((...))
        if hit:
            found.append((node.lineno, function, ast.get_source_segment(source, node)))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def test_the_detector_finds_the_comparisons_it_is_meant_to():
    samples = [
        'role.portal == "agent"',
        'user.role.portal in ("agent", "manager")',
        'portal not in ("admin",)',
        'role.builtin == "org_admin"',
        'user.role.name == "Auditor"',
        "role.name.lower() == wanted",
        'Role.portal.in_(("agent", "manager"))',
    ]
    for sample in samples:
        tree = ast.parse(sample)
        node = tree.body[0].value
        compared = [node.func.value] if isinstance(node, ast.Call) else [node.left, *node.comparators]
        assert any(_is_role_attribute(operand) for operand in compared), sample
    for innocent in ["member.role == MemberRole.MANAGER", 'user.name == "Ada"', 'ticket.state == "closed"']:
        node = ast.parse(innocent).body[0].value
        assert not any(_is_role_attribute(operand) for operand in [node.left, *node.comparators]), innocent


def test_no_code_outside_the_policy_compares_portals_or_role_names():
    """Staff, department seats and org admins are permission questions for `services/policy.py`."""
    offenders = []
    for path in _python_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, function, text in _role_comparisons(path):
            if (relative, function) not in ROLE_COMPARISON_ALLOWED:
                offenders.append(f"{relative}:{line} in {function}(): {text}")
    assert not offenders, "decide it with a policy helper (is_staff, department_seat, …):\n" + "\n".join(offenders)


def test_the_allow_list_names_only_comparisons_that_exist():
    """A stale entry would let a new comparison in that function pass unseen."""
    for relative, function in ROLE_COMPARISON_ALLOWED:
        assert any(found == function for _, found, _ in _role_comparisons(ROOT / relative)), (relative, function)


# --- ids from outside go through tenancy -------------------------------------------------------

ID_LOOKUP_DIRS = ("admin", "api", "agent", "portal", "manager", "web", "inbox", "feedback", "auth", "services")
# (file, function) -> why its `session.get` of a computed value takes no outside input.
ID_LOOKUP_ALLOWED = {
    (
        "autotrack/auth/routes.py",
        "second_factor",
    ): "the user id the server put into the signed session after the password step",
    (
        "autotrack/services/preferences.py",
        "save",
    ): "the signed-in user's own row, keyed by a topic name checked against TOPICS first",
    ("autotrack/services/live.py", "read_new"): "the signed-in user of the stream (the id the session loaded)",
    (
        "autotrack/services/mail/intake.py",
        "_user_from_directory",
    ): "the organization of the mailbox the message came in by",
    ("autotrack/services/sla/changes.py", "run_pending"): "a recompute row the sweep has just claimed by id",
    (
        "autotrack/services/people/accounts.py",
        "authenticate",
    ): "the user just found by address, reloaded after the attempt counter's commit",
    (
        "autotrack/services/people/sessions.py",
        "_changes",
    ): "the role a user held before a change, from SQLAlchemy's history of the loaded row",
}


def _is_plain_attribute(node):
    """`row.user_id`, `ticket.id`: a column of a row already loaded (scoped when it was loaded)."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute))


def _id_lookups(path):
    """(line, function, source) of each `session.get(Model, <not a plain attribute>)` and each
    `filter_by(id=...)`."""
    source = path.read_text()
    found = []

    def visit(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _dotted(node.func.value)
            if (
                node.func.attr == "get"
                and receiver.split(".")[-1] == "session"
                and len(node.args) == 2
                and not _is_plain_attribute(node.args[1])
            ):
                found.append((node.lineno, function, ast.get_source_segment(source, node)))
            if node.func.attr == "filter_by" and any(k.arg == "id" for k in node.keywords):
                found.append((node.lineno, function, ast.get_source_segment(source, node)))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source, str(path)), None)
    return found


def _request_facing_files():
    for folder in ID_LOOKUP_DIRS:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() != "autotrack/services/tenancy.py":
                yield path


def test_the_id_lookup_detector_finds_hand_rolled_lookups():
    samples = {
        "db.session.get(Ticket, int(raw))": True,
        "db.session.get(Ticket, ident)": True,
        "session.get(User, pending.get('user_id') or 0)": True,
        "Ticket.query.filter_by(id=raw)": True,
        "db.session.get(Ticket, row.ticket_id)": False,
        "session.get('second_factor')": False,
    }
    for sample, flagged in samples.items():
        path = ROOT / "tests" / "_sample_for_id_lookups.py"
        try:
            path.write_text(f"def f():\n    {sample}\n")
            assert bool(_id_lookups(path)) is flagged, sample
        finally:
            path.unlink()


def test_ids_from_outside_are_resolved_through_tenancy():
    offenders = []
    for path in _request_facing_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, function, text in _id_lookups(path):
            if (relative, function) not in ID_LOOKUP_ALLOWED:
                offenders.append(f"{relative}:{line} in {function}(): {text}")
    assert not offenders, "resolve the id with tenancy.get_scoped / find_scoped:\n" + "\n".join(offenders)


def test_the_id_lookup_allow_list_names_only_lookups_that_exist():
    for relative, function in ID_LOOKUP_ALLOWED:
        assert any(found == function for _, found, _ in _id_lookups(ROOT / relative)), (relative, function)


# --- one definition each of "may see", "org admin", "overdue", "SLA setting" -------------------


def test_every_kind_of_sla_setting_has_a_recompute_reason():
    """The cache token and the recompute watch one list; a setting added to it needs its reason."""
    from autotrack.models.settings_events import SLA_SETTING_MODELS
    from autotrack.services.sla import changes

    assert set(changes._REASONS) == set(SLA_SETTING_MODELS)


def test_the_ticket_list_and_the_policy_agree_on_who_may_see_what(org):
    """tenancy.visible_tickets is the policy's "may see" as SQL: for requester, copied colleague,
    agent, agent of another department, manager and org admin, the list is exactly the tickets
    `can(user, "ticket.view", ticket)` allows."""
    from autotrack.extensions import db
    from autotrack.models import Ticket
    from autotrack.models.types import utcnow
    from autotrack.services import policy
    from autotrack.services.tenancy import visible_tickets
    from autotrack.services.tickets import watchers
    from tests import factories

    support, it = factories.default_department(org), factories.make_department(org, "IT")
    employee, colleague = factories.make_user(org), factories.make_user(org)
    agent = factories.make_user(org, "agent", department=support)
    it_agent = factories.make_user(org, "agent", department=it)
    manager = factories.make_user(org, "manager", department=it)
    mine = factories.make_ticket(employee, title="Mine")
    factories.make_ticket(colleague, title="Theirs")
    watchers.add_cc(employee, mine, colleague.email, now=utcnow())
    db.session.commit()
    everything = db.session.scalars(db.select(Ticket).where(Ticket.org_id == org.id)).all()
    for user in (employee, colleague, agent, it_agent, manager, factories.admin_of(org)):
        listed = set(db.session.scalars(visible_tickets(user)).all())
        assert listed == {t for t in everything if policy.can(user, "ticket.view", t)}, user.email


# --- ticket states change only through the transition table ------------------------------------


def test_only_the_lifecycle_sets_a_tickets_state():
    """Merge included: a state written anywhere else would bypass the transition table."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "autotrack/services/tickets/lifecycle.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                else []
            )
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(element, ast.Attribute) and element.attr == "state":  # a lifecycle category
                        offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, "change a ticket's state with a lifecycle transition:\n" + "\n".join(offenders)


def test_merge_is_in_the_transition_table_but_not_an_action_anyone_names(org):
    import pytest

    from autotrack.models.types import utcnow
    from autotrack.services import tickets
    from autotrack.services.errors import ValidationError
    from tests import factories

    assert "merge" in tickets.TRANSITIONS and "merge" not in tickets.ACTIONS
    agent = factories.make_user(org, "agent")
    ticket = factories.make_ticket(factories.make_user(org))
    with pytest.raises(ValidationError):
        tickets.transition(agent, ticket, "merge", now=utcnow())
    assert "merge" not in tickets.allowed_actions(agent, ticket)


# --- one writer per table ----------------------------------------------------------------------

# Model -> the one module that writes its rows (the sweep uses the bulk variants: queue_many,
# record_many, notify_many).
WRITERS = {
    "OutboxEmail": "autotrack/services/outbox.py",
    "AuditEvent": "autotrack/services/audit.py",
    "Notification": "autotrack/services/notifications.py",
}
INSERTING_CALLS = {"insert", "bulk_insert", "insert_ignoring_duplicates"}
TABLE_NAMES = {"outbox_emails": "OutboxEmail", "audit_events": "AuditEvent", "notifications": "Notification"}


def _row_writes(source, filename="<sample>"):
    """(line, model, source) of each construction of a written model (`OutboxEmail(...)`), each
    insert naming one (`insert(Notification)`, `bulk_insert(AuditEvent, rows)`), each use of
    its Core table (`OutboxEmail.__table__`) and each SQL string inserting into its table."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        model = None
        if isinstance(node, ast.Call):
            name = _dotted(node.func).split(".")[-1]
            if name in WRITERS:
                model = name
            elif name in INSERTING_CALLS:
                named = [_dotted(arg).split(".") for arg in node.args]
                model = next((parts[-1] for parts in named if parts[-1] in WRITERS), None)
        elif isinstance(node, ast.Attribute) and node.attr == "__table__":
            model = _dotted(node.value).split(".")[-1]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            words = node.value.lower().replace("`", " ").replace('"', " ").split()
            for index, word in enumerate(words[:-1]):
                if word == "into" and words[index + 1] in TABLE_NAMES:
                    model = TABLE_NAMES[words[index + 1]]
        if model in WRITERS:
            found.append((node.lineno, model, ast.get_source_segment(source, node)))
    return found


def test_the_row_writer_detector_finds_hand_built_rows():
    samples = {
        "OutboxEmail(recipient=r)": True,
        "models.Notification(user_id=1)": True,
        "db.session.execute(insert(Notification), rows)": True,
        "bulk_insert(AuditEvent, audits)": True,
        "bulk_insert(OutboxEmail, emails, ignore_duplicates=True)": True,
        "insert_ignoring_duplicates(models.OutboxEmail)": True,
        "OutboxEmail.__table__.insert()": True,
        "text('INSERT IGNORE INTO outbox_emails (recipient) VALUES (:r)')": True,
        "select(OutboxEmail.id).where(OutboxEmail.status == OutboxStatus.PENDING)": False,
        "update(Notification).values(read_at=now)": False,
        "bulk_insert(SlaEvent, events)": False,
        "outbox.queue_many(emails, now=now)": False,
    }
    for sample, flagged in samples.items():
        assert bool(_row_writes(sample)) is flagged, sample


def test_outbox_audit_and_notification_rows_have_one_writer_each():
    """Status, dedupe key, message id, truncation and the live wake-up are decided once, in
    the owning service: others call queue_email / queue_many, record / record_many, notify /
    notify_many."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for line, model, text in _row_writes(path.read_text(), str(path)):
            owner = WRITERS[model]
            if relative != owner:
                offenders.append(f"{relative}:{line}: {text} (the writer is {owner})")
    assert not offenders, "write these rows through their service:\n" + "\n".join(offenders)


def test_each_writer_writes_its_table():
    """A stale entry (a writer moved or renamed) would leave the table with no named owner."""
    for model, owner in WRITERS.items():
        assert any(found == model for _, found, _ in _row_writes((ROOT / owner).read_text())), (model, owner)
