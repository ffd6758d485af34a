"""Console views. Settings views edit configuration rows; the audit log and the outbox are
read-only (the outbox offers "retry" for emails that failed for good)."""
from flask import flash
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from wtforms import PasswordField

from autotrack.admin.base import OrgModelView
from autotrack.admin.imports import ImportView
from autotrack.extensions import db
from autotrack.models import (
    AuditEvent,
    BusinessCalendar,
    Category,
    Department,
    DirectoryEntry,
    EscalationRule,
    EscalationTarget,
    Holiday,
    Lifecycle,
    Notification,
    OutboxEmail,
    Priority,
    SlaCalendar,
    Status,
    Ticket,
    User,
)
from autotrack.services import accounts, categories, outbox, users
from autotrack.services.errors import DomainError


def _choices(enum):
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class DepartmentView(OrgModelView):
    column_list = ("name", "is_default", "is_active", "created_at")
    column_searchable_list = ("name",)
    form_columns = ("name", "is_default", "is_active")


class PriorityView(OrgModelView):
    column_list = ("name", "weight", "first_response_minutes", "resolution_minutes", "calendar", "is_default")
    column_default_sort = ("weight", True)
    form_columns = ("name", "weight", "first_response_minutes", "resolution_minutes", "calendar", "is_default")
    form_choices = {"calendar": _choices(SlaCalendar)}


class StatusView(OrgModelView):
    column_list = ("name", "category", "color", "position", "is_default")
    column_default_sort = "position"
    form_columns = ("name", "category", "color", "position", "is_default")
    form_choices = {"category": _choices(Lifecycle)}


class EscalationRuleView(OrgModelView):
    column_list = ("level", "delay_minutes", "notify", "reassign", "is_active")
    column_default_sort = "level"
    form_columns = ("level", "delay_minutes", "notify", "reassign", "is_active")
    form_choices = {"notify": _choices(EscalationTarget)}


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
                    select(BusinessCalendar.id).where(BusinessCalendar.org_id == current_user.org_id))


class DirectoryView(OrgModelView):
    column_list = ("employee_id", "first_name", "last_name", "email", "department", "role")
    column_searchable_list = ("employee_id", "first_name", "last_name", "email")
    form_columns = ("employee_id", "first_name", "last_name", "email", "department", "role")


class UserView(OrgModelView):
    """Create, change role or department, deactivate. Users are never deleted (tickets and the
    audit trail point at them); deactivation signs them out at once."""

    can_delete = False
    column_list = ("name", "email", "role", "department", "active", "last_login_at")
    column_labels = {"active": "Active"}
    column_searchable_list = ("name", "email")
    column_filters = ("active",)
    form_columns = ("name", "email", "role", "department", "active", "new_password")
    form_extra_fields = {"new_password": PasswordField(
        "Set a password", description="Leave empty to keep the current one.")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.email = accounts.normalize_email(model.email)
        if form.new_password.data:
            accounts.set_password(model, form.new_password.data)
        users.ensure_an_admin_remains(model)


class ReadOnlyView(OrgModelView):
    can_create = False
    can_edit = False
    can_delete = False


class AuditLogView(ReadOnlyView):
    column_list = ("created_at", "ticket_id", "actor", "action", "from_value", "to_value", "detail")
    column_default_sort = ("id", True)
    column_filters = ("action", "ticket_id")
    column_searchable_list = ("action", "detail")


class TicketView(ReadOnlyView):
    """Every ticket of the organization; working on them happens in the agent portal."""

    column_list = ("number", "title", "state", "priority", "department", "assignee", "resolution_due_at",
                   "escalation_level", "created_at")
    column_default_sort = ("id", True)
    column_filters = ("state", "escalation_level")
    column_searchable_list = ("title",)
    column_details_exclude_list = ("version", "sla_next_check_at")


class NotificationView(ReadOnlyView):
    column_list = ("created_at", "user", "kind", "message", "read_at")
    column_default_sort = ("id", True)
    column_filters = ("kind",)


class OutboxView(ReadOnlyView):
    column_list = ("created_at", "recipient", "subject", "status", "attempts", "next_attempt_at", "sent_at",
                   "last_error")
    column_default_sort = ("id", True)
    column_filters = ("status", "recipient")
    column_searchable_list = ("recipient", "subject")
    column_details_exclude_list = ("context",)

    @action("retry", "Retry", "Queue the selected failed emails again?")
    def action_retry(self, ids):
        retried = 0
        for email_id in ids:
            try:
                outbox.retry(current_user.org_id, int(email_id))
                retried += 1
            except DomainError:
                continue  # not failed, or not ours: nothing to retry
        db.session.commit()
        flash(f"{retried} email(s) queued again." if retried else "Only failed emails can be retried.",
              "success" if retried else "warning")


def register_views(admin):
    admin.add_view(UserView(User, name="Users", category="Organization"))
    admin.add_view(DepartmentView(Department, name="Departments", category="Organization"))
    admin.add_view(DirectoryView(DirectoryEntry, name="Directory", category="Organization"))
    admin.add_view(CategoryView(Category, name="Categories", category="Organization"))
    admin.add_view(ImportView(name="Import CSV", category="Organization", endpoint="csv_import"))
    admin.add_view(HolidayView(Holiday, name="Holidays", category="SLA"))
    admin.add_view(PriorityView(Priority, name="Priorities", category="SLA"))
    admin.add_view(StatusView(Status, name="Statuses", category="SLA"))
    admin.add_view(EscalationRuleView(EscalationRule, name="Escalation rules", category="SLA"))
    admin.add_view(TicketView(Ticket, name="Tickets", category="Records"))
    admin.add_view(AuditLogView(AuditEvent, name="Audit log", category="Records", endpoint="audit"))
    admin.add_view(NotificationView(Notification, name="Notifications", category="Records"))
    admin.add_view(OutboxView(OutboxEmail, name="Email outbox", category="Records", endpoint="outbox"))
