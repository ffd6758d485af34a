"""The secure base every console view inherits: org admins only, CSRF on every form, and every
query (list, count, search, details, edit, delete, relation choices) scoped to the admin's
organization. Another organization's row is a 404."""

import csv
import io
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import DatePickerWidget
from flask_admin.model import typefmt
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from werkzeug.utils import secure_filename
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired
from wtforms.widgets import DateInput

from autotrack.extensions import db
from autotrack.models import Department, User
from autotrack.models.types import utcnow
from autotrack.services import csvsafe, policy
from autotrack.services.errors import DomainError, ValidationError
from autotrack.services.org import dashboard, imports
from autotrack.services.tenancy import find_scoped, parse_id
from autotrack.services.timefmt import duration_words
from autotrack.web import local_time
from autotrack.web.redirects import is_local_path


class ConsoleAccess:
    """Only org admins (the `settings.manage` capability); others 403, anonymous users to login.
    A return address (`url=`, where Flask-Admin goes after a save, delete or action and what its
    List and Cancel links point at) is followed only when it is a path on this site."""

    RETURN_PARAMETERS = ("url",)

    def _handle_view(self, name, **kwargs):
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        if all(
            is_local_path(value) for key in self.RETURN_PARAMETERS for value in request.values.getlist(key) if value
        ):
            return None
        if request.method in ("GET", "HEAD"):  # the same page, returning to its usual place
            kept = [(key, value) for key, value in request.args.items(multi=True) if key not in self.RETURN_PARAMETERS]
            return redirect(request.path + ("?" + urlencode(kept) if kept else ""))
        abort(400, "The return address must be a page of this site.")

    def is_accessible(self):
        return current_user.is_authenticated and policy.can(current_user, "portal.admin")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class SecureIndexView(ConsoleAccess, AdminIndexView):
    """The console's home: the organization's SLA dashboard."""

    @expose("/")
    def index(self):
        org_id = current_user.org_id
        board = dashboard.build(org_id, now=utcnow())
        counts = {
            "users": db.session.scalar(
                select(func.count()).select_from(User).where(User.org_id == org_id, User.active.is_(True))
            ),
            "departments": db.session.scalar(
                select(func.count())
                .select_from(Department)
                .where(Department.org_id == org_id, Department.is_active.is_(True))
            ),
        }
        return self.render(
            "admin/dashboard.html",
            board=board,
            counts=counts,
            organization=current_user.organization,
            duration=_duration,
        )


def _duration(seconds):
    return "—" if seconds is None else duration_words(timedelta(seconds=seconds))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ConsoleForm(FlaskForm):
    """Flask-WTF's form (its CSRF token is what the app-wide CSRFProtect checks), remembering the
    edited object as Flask-Admin's own base form does; its Unique validator relies on that.
    Text fields lose surrounding spaces before validation, as the CSV import's cells do
    (" Facilities" is the Facilities department, not a second one); passwords are kept as typed."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                # Required means something left after stripping (InputRequired reads the raw input).
                validators = [
                    DataRequired() if isinstance(v, InputRequired) else v
                    for v in unbound_field.kwargs.get("validators") or ()
                ]
                options = {
                    **options,
                    "filters": [*unbound_field.kwargs.get("filters", ()), _strip],
                    "validators": validators,
                }
            return unbound_field.bind(form=form, **options)

    def __init__(self, *args, **kwargs):
        self._obj = kwargs.get("obj")
        super().__init__(*args, **kwargs)


# Column names that hold a secret or what proves one (hashes, encrypted values, tokens, TOTP
# state): no console view lists, shows, exports, sorts, filters or searches them, whatever its
# own column lists say. Write-only form fields (a "new password") are not model columns.
SECRET_COLUMN = re.compile(
    r"password|passwd|secret|token|hash|digest|encrypted|cipher|recovery|totp_last|"
    r"salt|private|credential|api_?key",
    re.IGNORECASE,
)


def is_secret_column(name):
    """True for a column (or dotted path, e.g. user.password_hash) whose value must stay unseen."""
    return bool(SECRET_COLUMN.search(str(name)))


# Query arguments Flask-Admin reads as whole numbers (the page and its size, the sort column).
LIST_NUMBERS = ("page", "page_size", "sort")
MAX_LIST_NUMBER = 1_000_000  # page 1,000,000 of 50 rows is already past any list here
MAX_SQL_INTEGER = 2**63 - 1  # BIGINT; SQLite raises OverflowError past it, MariaDB errors on LIMIT
FILTER_ARG = re.compile(r"flt\d+_\d+")
NUMBER = re.compile(r"[0-9]+")


def _fits(value, limit):
    """An ASCII whole number from 0 to `limit` (checked by length first: int() refuses 4,300 digits)."""
    digits = value.lstrip("0")
    return value.isascii() and value.isdigit() and len(digits) <= len(str(limit)) and int(digits or "0") <= limit


class OrgModelView(ConsoleAccess, ModelView):
    """A model view over one organization's rows. Subclasses set the model and the columns."""

    form_base_class = ConsoleForm
    page_size = 50
    # Times in the organization's timezone, to the minute, like the portals show them.
    column_type_formatters = {**typefmt.BASE_FORMATTERS, datetime: lambda view, value, name: local_time(value)}
    column_type_formatters_detail = column_type_formatters
    can_view_details = True
    # CSV export of the (filtered) list; cells are made safe to open in a spreadsheet.
    can_export = True
    export_types = ["csv"]
    export_max_rows = 50_000
    column_exclude_list = ("org_id",)
    form_excluded_columns = ("organization",)

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)

    def _scoped(self, query):
        return query.filter(self.model.org_id == current_user.org_id, *self.scope())

    def scope(self):
        """What this view's rows meet besides belonging to the admin's organization (views narrow it)."""
        return ()

    # -- odd input is a 404 or a 400, never a 500 ---------------------------------------------------

    def _handle_view(self, name, **kwargs):
        """Before any view of any console model: ids must be ids, page numbers and filter numbers
        must be numbers a database can take (Flask-Admin passes them on as they come)."""
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        if any(parse_id(value) is None for value in request.values.getlist("id")):
            abort(404)
        if any(parse_id(value) is None for value in request.form.getlist("rowid")):
            abort(400, "Choose the rows from the list.")
        for key in LIST_NUMBERS:
            value = request.args.get(key, "").strip()
            if value and not _fits(value, MAX_LIST_NUMBER):
                abort(400, f"{key.replace('_', ' ').capitalize()} must be a number from 0 to {MAX_LIST_NUMBER}.")
        for key, value in request.args.items(multi=True):
            if FILTER_ARG.fullmatch(key) and any(not _fits(n, MAX_SQL_INTEGER) for n in NUMBER.findall(value)):
                abort(400, "That filter value is not a number the list can use.")
        return None

    def _run_view(self, fn, *args, **kwargs):
        """A number the checks above did not foresee still reaches no 500 (SQLite refuses ints
        past 64 bits with OverflowError): the request is refused and nothing is written."""
        try:
            return super()._run_view(fn, *args, **kwargs)
        except OverflowError:
            db.session.rollback()
            abort(400, "A number in the request is too large.")

    # -- secrets stay out of every page, export, sort, filter and search --------------------------

    def get_column_names(self, only_columns, excluded_columns):
        """Used for the list, details and export columns."""
        return [
            (name, label)
            for name, label in super().get_column_names(only_columns, excluded_columns)
            if not is_secret_column(name)
        ]

    def get_sortable_columns(self):
        return {
            name: column
            for name, column in super().get_sortable_columns().items()
            if not is_secret_column(name) and not is_secret_column(getattr(column, "key", ""))
        }

    def get_filters(self):
        kept = [
            flt
            for flt in super().get_filters() or ()
            if not is_secret_column(getattr(flt, "column", "")) and not is_secret_column(flt.name)
        ]
        return kept or None

    def init_search(self):
        if self.column_searchable_list:
            self.column_searchable_list = [name for name in self.column_searchable_list if not is_secret_column(name)]
        return super().init_search()

    def scaffold_form(self):
        form_class = super().scaffold_form()
        for name in [attr.key for attr in sa_inspect(self.model).column_attrs if is_secret_column(attr.key)]:
            if hasattr(form_class, name):
                delattr(form_class, name)
        # Dates use the browser's own date input: Flask-Admin's picker stayed open over the Save
        # button after a date was typed, so the click meant for Save picked another day instead.
        for name in dir(form_class):
            unbound = getattr(form_class, name)
            if (
                getattr(unbound, "field_class", None) is not None
                and issubclass(unbound.field_class, DateField)
                and isinstance(unbound.kwargs.get("widget"), DatePickerWidget)
            ):
                unbound.kwargs["widget"] = DateInput()
        return form_class

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_one(self, id):
        """Details, edit and delete all load through here: another organization's id is a 404,
        and so is a number no row can have (30 digits would overflow the database)."""
        obj = find_scoped(self.model, id, current_user.org_id, *self.scope())
        if obj is None:
            abort(404)
        return obj

    def _export_csv(self, return_url):
        """The CSV of the (filtered) list. Every cell is worked out while the request's database
        session is open: Flask-Admin's stream read related rows lazily after the session had
        ended, and the download stopped after its header row (departments, received mail)."""
        _, rows = self._export_data()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([str(label) for _, label in self._export_columns])
        for row in rows:
            writer.writerow([self.get_export_value(row, name) for name, _ in self._export_columns])
        filename = secure_filename(self.get_export_name(export_type="csv"))
        return Response(
            out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment;filename={filename}"}
        )

    def get_export_value(self, model, name):
        """A cell that starts like a formula (=, +, -, @) is exported as text, not run by Excel."""
        value = super().get_export_value(model, name)
        return csvsafe.safe_cell(value if value is None else str(value))

    def _scope_relation_choices(self, form):
        """Dropdowns of related rows list only this organization's rows."""
        for field in form:
            factory = getattr(field, "query_factory", None)
            if factory is None:
                continue
            remote = factory().column_descriptions[0]["entity"]
            if hasattr(remote, "org_id"):  # keep the field's own filters, add the organization's
                field.query_factory = lambda factory=factory, remote=remote: factory().filter(
                    remote.org_id == current_user.org_id
                )
        return form

    def create_form(self, obj=None):
        return self._scope_relation_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_relation_choices(super().edit_form(obj))

    def handle_view_exception(self, exc):
        """Say why a save was refused, in words for people; Flask-Admin then rolls back."""
        if isinstance(exc, DomainError):
            flash(exc.message, "error")
            return True
        if isinstance(exc, IntegrityError):
            flash("Not saved: another record already uses that name, email or number.", "error")
            return True
        return super().handle_view_exception(exc)

    # The column naming a row for people; two rows may not differ only in case, accents or
    # spacing (MariaDB's collation already refuses that; SQLite would not).
    natural_key_column = None

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.org_id = current_user.org_id
        elif model.org_id != current_user.org_id:  # cannot happen through get_one; refuse anyway
            abort(404)
        if self.natural_key_column:
            self._refuse_lookalike(model)

    def _refuse_lookalike(self, model):
        column = getattr(self.model, self.natural_key_column)
        value = getattr(model, self.natural_key_column)
        with db.session.no_autoflush:
            others = db.session.execute(
                select(self.model.id, column).where(self.model.org_id == current_user.org_id)
            ).all()
        wanted = imports.natural_key(value)
        for other_id, other_value in others:
            if other_id != model.id and imports.natural_key(other_value) == wanted:
                raise ValidationError(
                    f"{other_value!r} exists already; names may not differ only in case or accents.",
                    {self.natural_key_column: "Taken."},
                )
