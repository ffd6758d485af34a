"""Console views. Settings views edit configuration rows; the audit log and the outbox are
read-only (the outbox offers "retry" for emails that failed for good)."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectMultipleField
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, or_, select
from wtforms import HiddenField, PasswordField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, NumberRange, Optional
from wtforms.validators import ValidationError as WtfValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from autotrack.admin import mail as mail_admin
from autotrack.admin.base import OrgModelView
from autotrack.admin.imports import ImportView
from autotrack.admin.settings import DirectorySyncView, SettingsView
from autotrack.extensions import db
from autotrack.models import (
    AfterImport,
    AuditEvent,
    BusinessCalendar,
    CannedReply,
    Category,
    Department,
    DirectoryEntry,
    EscalationRule,
    EscalationTarget,
    Holiday,
    InboundMessage,
    InboundStatus,
    Lifecycle,
    Mailbox,
    MailSecurity,
    MemberRole,
    Notification,
    OutboxEmail,
    Perm,
    Priority,
    Role,
    SecurityEvent,
    SlaCalendar,
    Status,
    Ticket,
    User,
)
from autotrack.models.types import utcnow
from autotrack.services import audit, outbox, policy, security_log, tickets
from autotrack.services.errors import DomainError
from autotrack.services.mail import intake as mail_in
from autotrack.services.mail import mailboxes
from autotrack.services.org import orgs
from autotrack.services.people import accounts, password_links, roles, users
from autotrack.services.sla import target_words as sla_target_words
from autotrack.services.sla import timeline as sla_timeline
from autotrack.services.tenancy import parse_id
from autotrack.services.tickets import canned, categories


def _choices(enum):
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class MultipleSelectField(QuerySelectMultipleField):
    """Flask-Admin 2.2.1's field checks for unknown submitted ids before it has read them, so an
    id outside the choices (another organization's user) was silently dropped, not refused."""

    def pre_validate(self, form):
        self.data  # noqa: B018 (reading the data resolves the ids and notes any unknown one)
        super().pre_validate(form)


def _staff(keep=()):
    """Active support staff of the admin's organization (the base view adds the org filter too),
    plus the users `keep` names: a department's current members stay choosable (and selected)
    even once deactivated, so saving the form unchanged does not drop them."""
    offered = User.active.is_(True) if not keep else or_(User.active.is_(True), User.id.in_(keep))
    return (
        db.session.query(User)
        .filter(User.org_id == current_user.org_id, offered, User.role_id.in_(policy.staff_role_ids()))
        .order_by(User.name, User.id)
    )


def _people(users):
    return ", ".join(sorted(user.name for user in users)) or "—"


def _members_formatter(role, leads=False):
    def format_members(view, context, model, name):
        return _people(m.user for m in model.members if m.role == role and (m.is_lead or not leads))

    return format_members


def _top_categories():
    return db.session.query(Category).filter(Category.parent_id.is_(None)).order_by(Category.name)


CATEGORY_LIMIT_HELP = (
    "Leave empty for every category; otherwise only these top-level categories (and what is "
    "under them) can be chosen when raising a ticket."
)


class DepartmentView(OrgModelView):
    """Departments and who works in them: managers (escalation level 2), agents, and the agents
    who lead (escalation level 1)."""

    natural_key_column = "name"
    column_list = ("name", "managers", "agents", "leads", "is_default", "is_active")
    column_searchable_list = ("name",)
    column_formatters = {
        "managers": _members_formatter(MemberRole.MANAGER),
        "agents": _members_formatter(MemberRole.AGENT),
        "leads": _members_formatter(MemberRole.AGENT, leads=True),
    }
    column_formatters_export = column_formatters
    form_columns = ("name", "is_default", "is_active", "managers", "agents", "leads", "categories")
    form_args = {
        "categories": {
            "query_factory": _top_categories,
            "label": "Its people may raise tickets in",
            "description": CATEGORY_LIMIT_HELP,
        }
    }
    form_overrides = {"categories": MultipleSelectField}  # another organization's id is refused
    form_extra_fields = {
        group: MultipleSelectField(
            group.capitalize(),
            query_factory=_staff,
            get_label=lambda user: f"{user.name} <{user.email}>",
            description=description,
        )
        for group, description in (
            ("managers", "Users with the manager role; told at escalation level 2."),
            ("agents", "Support staff who work this department's queue."),
            ("leads", "Agents told first when a ticket breaches (escalation level 1)."),
        )
    }

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None:
            keep = tuple({m.user_id for m in obj.members})
            for group in ("managers", "agents", "leads"):
                form[group].query_factory = lambda keep=keep: _staff(keep)
        return form

    def on_form_prefill(self, form, id):
        """Each list selects exactly the department's members in that role (tested: a save of the
        unchanged form changes nothing)."""
        department = self.get_one(id)
        form.managers.data = [m.user for m in department.members if m.role == MemberRole.MANAGER]
        form.agents.data = [m.user for m in department.members if m.role == MemberRole.AGENT]
        form.leads.data = [m.user for m in department.members if m.role == MemberRole.AGENT and m.is_lead]

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        db.session.flush()  # a new department needs its id before members can join
        orgs.set_department_members(model, managers=form.managers.data, agents=form.agents.data, leads=form.leads.data)


class RoleView(OrgModelView):
    """Roles are records: the built-in four and custom ones (say, an Auditor who reads every ticket
    and changes none). Changes apply from each holder's next request and are audited."""

    natural_key_column = "name"
    column_list = ("name", "portal", "description", "permissions", "categories", "holders")
    column_formatters = {
        "permissions": lambda view, context, model, name: ", ".join(
            roles.PERMISSION_LABELS[Perm(p)] for p in sorted(model.permissions)
        ),
        "holders": lambda view, context, model, name: db.session.scalar(
            select(func.count()).select_from(User).where(User.role_id == model.id)
        ),
        "portal": lambda view, context, model, name: dict(roles.PORTAL_CHOICES).get(model.portal, model.portal),
    }
    column_formatters_export = column_formatters
    # The field is not called `permissions`: Flask-Admin would write it onto Role.permissions.
    form_columns = ("name", "portal", "description", "permission_set", "categories")
    form_choices = {"portal": roles.PORTAL_CHOICES}
    form_extra_fields = {
        "permission_set": SelectMultipleField(
            "Permissions",
            choices=[(p.value, label) for p, label in roles.PERMISSION_LABELS.items()],
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            description="The built-in Organization admin role always keeps every permission.",
        )
    }
    form_args = {
        "categories": {
            "query_factory": _top_categories,
            "label": "May raise tickets in",
            "description": CATEGORY_LIMIT_HELP,
        }
    }
    form_overrides = {"categories": MultipleSelectField}

    def on_form_prefill(self, form, id):
        form.permission_set.data = sorted(self.get_one(id).permissions)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        roles.apply(
            model, form.permission_set.data or [], actor=current_user._get_current_object(), is_created=is_created
        )

    def on_model_delete(self, model):
        roles.check_deletable(model)
        audit.record(
            model.org_id, "role_deleted", actor=current_user._get_current_object(), to_value=model.name, now=utcnow()
        )


def _target(view, context, model, name):
    """A target as the list shows it: "24 working hours (3 working days) · 1440 min" (the form edits minutes)."""
    minutes = getattr(model, name)
    return "—" if minutes is None else f"{sla_target_words(model.org_id, minutes, model.calendar)} · {minutes} min"


class PriorityView(OrgModelView):
    natural_key_column = "name"
    column_formatters = {
        name: _target for name in ("first_response_minutes", "resolution_minutes", "next_response_minutes")
    }
    column_list = (
        "name",
        "weight",
        "first_response_minutes",
        "resolution_minutes",
        "next_response_minutes",
        "calendar",
        "is_default",
    )
    column_default_sort = ("weight", True)
    form_columns = (
        "name",
        "weight",
        "first_response_minutes",
        "resolution_minutes",
        "next_response_minutes",
        "calendar",
        "is_default",
    )
    form_choices = {"calendar": _choices(SlaCalendar)}
    column_labels = {"next_response_minutes": "Next response minutes (update clock)"}
    form_args = {
        "next_response_minutes": {
            "validators": [Optional(), NumberRange(min=1, message="Write a number of minutes, 1 or more.")],
            "description": "Optional. Each time the requester writes, an agent must answer publicly within "
            "this much working time. Empty: no update clock.",
        }
    }


class StatusView(OrgModelView):
    natural_key_column = "name"
    column_list = ("name", "category", "color", "position", "is_default")
    column_default_sort = "position"
    form_columns = ("name", "category", "color", "position", "is_default")
    form_choices = {"category": _choices(Lifecycle)}


class EscalationRuleView(OrgModelView):
    column_list = ("level", "delay_minutes", "notify", "reassign", "working_hours_only", "reminder", "is_active")
    column_default_sort = "level"
    form_columns = ("level", "delay_minutes", "notify", "reassign", "working_hours_only", "reminder", "is_active")
    form_choices = {
        "notify": _choices(EscalationTarget),
        "reminder": [("daily", "Every working day, when business opens"), ("hourly", "Every hour of business hours")],
    }
    column_labels = {"working_hours_only": "Email in working hours only", "reminder": "Remind while overdue"}
    form_args = {
        "working_hours_only": {
            "description": (
                "An escalation outside the organization's business hours is recorded and shown in the app at "
                "once, but its email waits for the next working period (level 1: the SLA warnings too)."
            )
        },
        "reminder": {
            "description": (
                "Empty: no reminders. Otherwise the people this level notifies get one email per period "
                "listing every ticket that reached this level and is still overdue."
            )
        },
    }


class CategoryView(OrgModelView):
    """The 3-level category tree; each node may set a default priority and department."""

    column_list = ("path", "default_priority", "default_department", "is_active")
    column_labels = {"path": "Category"}
    column_default_sort = "path"
    column_searchable_list = ("path",)
    form_columns = ("name", "parent", "default_priority", "default_department", "is_active")
    column_formatters = {"path": lambda view, context, model, name: model.display_path}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        categories.place(model)


class HolidayView(OrgModelView):
    column_list = ("date", "name")
    column_default_sort = ("date", True)
    form_columns = ("date", "name")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:  # holidays belong to the organization's business calendar
            with db.session.no_autoflush:  # the new row is not complete until this is set
                model.calendar_id = db.session.scalar(
                    select(BusinessCalendar.id).where(BusinessCalendar.org_id == current_user.org_id)
                )


class DirectoryView(OrgModelView):
    natural_key_column = "employee_id"
    column_list = ("employee_id", "first_name", "last_name", "email", "department", "role", "active")
    column_labels = {"active": "Can register"}
    column_filters = ("active",)
    column_searchable_list = ("employee_id", "first_name", "last_name", "email")
    form_columns = ("employee_id", "first_name", "last_name", "email", "department", "role", "active")


class UserView(OrgModelView):
    """Create, change role or department, deactivate. Users are never deleted (tickets and the
    audit trail point at them); deactivation signs them out at once."""

    can_delete = False
    column_list = ("name", "email", "role", "department", "active", "last_login_at")
    column_labels = {"active": "Active"}
    column_searchable_list = ("name", "email")
    column_filters = ("active",)
    form_columns = ("name", "email", "role", "department", "active", "new_password")
    form_extra_fields = {
        "new_password": PasswordField("Set a password", description="Leave empty to keep the current one.")
    }
    form_args = {
        "department": {
            "description": "Staff join this department's queue (as manager, for managers); "
            "more departments under Organization › Departments."
        }
    }

    def scaffold_form(self):
        """Flask-Admin checks the unique email across every organization and says "Already
        exists": the refusal keeps to words that tell of no one (services/people/users.py)."""
        form_class = super().scaffold_form()
        for validator in form_class.email.kwargs.get("validators", []):
            if hasattr(validator, "column"):  # flask_admin's Unique
                validator.message = users.EMAIL_REFUSED
        return form_class

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.email = accounts.normalize_email(model.email)
        users.check_email_usable(model.email, model.id)  # also when only the case differs
        if form.new_password.data:
            accounts.set_password(model, form.new_password.data)
        users.ensure_an_admin_remains(model)
        users.drop_memberships_the_role_no_longer_allows(model)
        if is_created and not form.new_password.data:
            db.session.flush()
            password_links.invite(model, actor=current_user, now=utcnow())  # they choose their own password
        seat = policy.department_seat(model) if model.department is not None else None
        if seat is not None:
            db.session.flush()  # a new user needs an id to join
            orgs.add_member(model.department, model, seat)


class ReadOnlyView(OrgModelView):
    can_create = False
    can_edit = False
    can_delete = False


class AuditLogView(ReadOnlyView):
    column_list = ("created_at", "ticket_id", "actor", "action", "from_value", "to_value", "detail")
    column_default_sort = ("id", True)
    column_filters = ("action", "ticket_id")
    column_searchable_list = ("action", "detail")


class SecurityEventView(ReadOnlyView):
    """Sign-ins and failures, lockouts, denied access, role and password changes, ended sessions."""

    column_list = ("created_at", "kind", "user", "detail", "address")
    column_labels = {"kind": "Event", "address": "Client address"}
    column_default_sort = ("id", True)
    column_filters = ("kind", "address")
    column_searchable_list = ("kind", "detail", "address")
    column_formatters = {"kind": lambda view, context, model, name: security_log.KINDS.get(model.kind, model.kind)}


class ReassignForm(FlaskForm):
    ids = HiddenField()
    assignee = SelectField("Assign to", coerce=int, validators=[DataRequired("Choose who takes the tickets.")])


class TicketView(ReadOnlyView):
    """Every ticket of the organization; working on them happens in the agent portal. Selected
    tickets can be reassigned at once (say, everything of an agent who left)."""

    MAX_REASSIGN = 500
    column_list = (
        "number",
        "title",
        "state",
        "priority",
        "department",
        "assignee",
        "resolution_due_at",
        "escalation_level",
        "created_at",
        "sla_timeline",
    )
    column_export_list = (
        "number",
        "title",
        "state",
        "priority",
        "department",
        "assignee",
        "resolution_due_at",
        "escalation_level",
        "created_at",
    )
    column_labels = {"sla_timeline": "SLA"}
    column_formatters = {
        "sla_timeline": lambda view, context, model, name: Markup(
            f'<a href="{url_for(".sla_timeline", id=model.id)}">timeline</a>'
        )
    }
    column_default_sort = ("id", True)
    column_filters = ("state", "escalation_level", "priority.name", "department.name", "assignee.email")
    column_searchable_list = ("title",)
    column_details_exclude_list = ("version", "sla_next_check_at")

    @expose("/sla/")
    def sla_timeline(self):
        """The ticket's SLA timeline (another organization's ticket is a 404, as everywhere here)."""
        ticket = self.get_one(request.args.get("id"))
        return self.render("admin/sla_timeline.html", ticket=ticket, timeline=sla_timeline.timeline(ticket, utcnow()))

    @action("reassign", "Reassign")
    def action_reassign(self, ids):
        return redirect(url_for(".reassign", ids=",".join(ids[: self.MAX_REASSIGN])))

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign(self):
        wanted = [i for i in map(parse_id, (request.values.get("ids") or "").split(",")) if i is not None]
        selected = self.get_query().filter(Ticket.id.in_(wanted[: self.MAX_REASSIGN])).order_by(Ticket.id).all()
        if not selected:
            flash("Select the tickets to reassign first.", "warning")
            return redirect(url_for(".index_view"))
        form = ReassignForm(ids=",".join(str(t.id) for t in selected))
        staff = tickets.ticket_workers(current_user.org_id)
        form.assignee.choices = [(user.id, f"{user.name} <{user.email}>") for user in staff]
        if form.validate_on_submit():
            assignee = next(user for user in staff if user.id == form.assignee.data)
            done, skipped = tickets.reassign_many(current_user, selected, assignee, now=utcnow())
            db.session.commit()
            flash(f"{len(done)} ticket(s) reassigned to {assignee.name}.", "success" if done else "warning")
            for ticket, reason in skipped[:20]:
                flash(f"{ticket.reference} not reassigned: {reason}", "warning")
            return redirect(url_for(".index_view"))
        return self.render("admin/reassign.html", form=form, tickets=selected)


class NotificationView(ReadOnlyView):
    column_list = ("created_at", "user", "kind", "message", "read_at")
    column_default_sort = ("id", True)
    column_filters = ("kind",)


class OutboxView(ReadOnlyView):
    column_list = (
        "created_at",
        "recipient",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    column_default_sort = ("id", True)
    column_filters = ("status", "recipient")
    column_searchable_list = ("recipient", "subject")
    column_details_exclude_list = ("context", "secret_encrypted")
    column_export_exclude_list = ("context", "secret_encrypted")

    @action("retry", "Retry", "Queue the selected failed emails again?")
    def action_retry(self, ids):
        retried = 0
        for email_id in ids:
            try:
                outbox.retry(current_user.org_id, int(email_id), now=utcnow())
                retried += 1
            except DomainError:
                continue  # not failed, or not ours: nothing to retry
        db.session.commit()
        flash(
            f"{retried} email(s) queued again." if retried else "Only failed emails can be retried.",
            "success" if retried else "warning",
        )


def _mailbox_counts(view, context, model, name):
    """Per-mailbox counts of received messages by outcome (one grouped query per row shown)."""
    rows = db.session.execute(
        select(InboundMessage.status, func.count())
        .where(InboundMessage.mailbox_id == model.id)
        .group_by(InboundMessage.status)
    ).all()
    return ", ".join(f"{status} {n}" for status, n in sorted(rows)) or "none yet"


class MailboxView(OrgModelView):
    """IMAP mailboxes whose mail becomes tickets of a department. The password is write-only:
    stored encrypted, never shown or logged; leave it empty to keep the current one."""

    natural_key_column = "name"
    column_list = (
        "name",
        "address",
        "department",
        "imap_host",
        "folder",
        "active",
        "last_fetch_at",
        "last_error",
        "messages",
    )
    column_formatters = {"messages": _mailbox_counts}
    column_details_exclude_list = ("password_encrypted",)
    column_export_exclude_list = ("password_encrypted",)
    form_columns = (
        "name",
        "address",
        "department",
        "imap_host",
        "imap_port",
        "security",
        "username",
        "new_password",
        "folder",
        "after_import",
        "move_folder",
        "trusted_authserv_ids",
        "active",
    )
    form_choices = {"security": _choices(MailSecurity), "after_import": _choices(AfterImport)}
    form_args = {
        "address": {"description": "The address people write to; our mail about its tickets names it as Reply-To."},
        "imap_host": {"description": "Leave empty for a mailbox fed only by the MTA pipe command."},
        "move_folder": {"description": "With 'move': the folder imported mail goes to."},
        "trusted_authserv_ids": {
            "label": "Trusted mail servers",
            "description": mail_admin.TRUSTED_SERVERS_HELP,
            "validators": [Optional(), mail_admin.trusted_servers_field],
        },
    }
    form_extra_fields = {
        "new_password": PasswordField(
            "IMAP password", description="Stored encrypted and never shown again. Leave empty to keep the current one."
        )
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if form.new_password.data:
            mailboxes.set_password(model, form.new_password.data)

    @action("test", "Test connection")
    def action_test(self, ids):
        for mailbox_id in ids:
            mailbox = self.get_one(mailbox_id)
            ok, answer = mailboxes.test_connection(mailbox)
            flash(f"{mailbox.name}: {answer}", "success" if ok else "error")


class InboundMessageView(ReadOnlyView):
    """Every message received: who sent it, what it became, and the error of one that failed
    (which can be processed again)."""

    column_list = ("received_at", "mailbox", "sender", "subject", "status", "ticket", "error")
    column_default_sort = ("id", True)
    column_filters = ("status", "sender")
    column_searchable_list = ("sender", "subject")
    column_details_exclude_list = ("raw", "message_key")
    column_export_exclude_list = ("raw", "message_key")
    column_formatters = {"ticket": lambda view, context, model, name: model.ticket.reference if model.ticket else ""}
    column_formatters_detail = {**column_formatters, "original": lambda v, c, model, n: mail_in.preview(model.raw)}
    column_details_list = (
        "received_at",
        "mailbox",
        "message_id",
        "sender",
        "subject",
        "status",
        "ticket",
        "comment_id",
        "attempts",
        "processed_at",
        "error",
        "original",
    )

    @action("reprocess", "Process again", "Process the selected failed or rejected messages again?")
    def action_reprocess(self, ids):
        outcomes = []
        for inbound_id in ids:
            try:
                outcomes.append(mail_in.reprocess(current_user.org_id, int(inbound_id), now=utcnow()))
            except DomainError:
                continue  # not failed or rejected, or not ours
        done = sum(1 for status in outcomes if status == InboundStatus.PROCESSED)
        flash(
            f"{len(outcomes)} message(s) processed again: {done} made a ticket or reply."
            if outcomes
            else "Only failed or rejected messages can be processed again.",
            "success" if done else "warning",
        )


def _fillable(form, field):
    """A canned reply's text must fill in (known placeholders only, nothing the sandbox refuses)."""
    try:
        canned.validate_shared(form.title.data or "-", field.data)
    except DomainError as error:
        raise WtfValidationError(next(iter(error.fields.values()), error.message)) from None


class CannedReplyView(OrgModelView):
    """The organization's canned replies (agents keep their own in the agent portal)."""

    column_list = ("title", "body", "updated_at")
    column_searchable_list = ("title", "body")
    column_default_sort = "title"
    form_columns = ("title", "body")
    form_args = {
        "body": {
            "validators": [DataRequired(), _fillable],
            "description": ("Placeholders: " + ", ".join("{{ " + p + " }}" for p in canned.PLACEHOLDERS)),
        }
    }
    form_widget_args = {"body": {"rows": 8}}

    def scope(self):
        return (CannedReply.owner_id.is_(None),)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.owner_id = None


def register_views(admin):
    admin.add_view(SettingsView(name="Settings & business hours", category="Organization", endpoint="settings"))
    admin.add_view(UserView(User, name="Users", category="Organization"))
    admin.add_view(RoleView(Role, name="Roles", category="Organization"))
    admin.add_view(DepartmentView(Department, name="Departments", category="Organization"))
    admin.add_view(DirectoryView(DirectoryEntry, name="Directory", category="Organization"))
    admin.add_view(CategoryView(Category, name="Categories", category="Organization"))
    admin.add_view(ImportView(name="Import CSV", category="Organization", endpoint="csv_import"))
    admin.add_view(DirectorySyncView(name="Directory sync", category="Organization", endpoint="directory_sync"))
    admin.add_view(HolidayView(Holiday, name="Holidays", category="SLA"))
    admin.add_view(PriorityView(Priority, name="Priorities", category="SLA"))
    admin.add_view(StatusView(Status, name="Statuses", category="SLA"))
    admin.add_view(EscalationRuleView(EscalationRule, name="Escalation rules", category="SLA"))
    admin.add_view(TicketView(Ticket, name="Tickets", category="Records"))
    admin.add_view(AuditLogView(AuditEvent, name="Audit log", category="Records", endpoint="audit"))
    admin.add_view(SecurityEventView(SecurityEvent, name="Security events", category="Records", endpoint="security"))
    admin.add_view(NotificationView(Notification, name="Notifications", category="Records"))
    admin.add_view(OutboxView(OutboxEmail, name="Email outbox", category="Records", endpoint="outbox"))
    admin.add_view(CannedReplyView(CannedReply, name="Canned replies", category="Organization"))
    admin.add_view(MailboxView(Mailbox, name="Mailboxes", category="Email"))
    admin.add_view(InboundMessageView(InboundMessage, name="Received mail", category="Email", endpoint="inbound"))
