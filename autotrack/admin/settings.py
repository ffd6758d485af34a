"""Organization settings in the console: name, timezone, SLA warning point, business hours, and
the directory source."""

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from autotrack.admin.base import ConsoleAccess
from autotrack.extensions import db
from autotrack.models.types import utcnow
from autotrack.services.errors import ValidationError
from autotrack.services.org import directory_sync, orgs

DAY_FIELDS = tuple(day.lower() for day in orgs.WEEKDAYS)


class SettingsForm(FlaskForm):
    name = StringField("Organization name", validators=[DataRequired()])
    timezone = StringField(
        "Timezone",
        validators=[DataRequired()],
        description="IANA name, e.g. Europe/Berlin; business hours and holidays are in it.",
    )
    sla_warning_percent = IntegerField(
        "Warn at (% of an SLA window)",
        validators=[NumberRange(1, 99)],
        description="The assignee (or the leads) are warned once this share of a deadline's time has passed.",
    )
    low_rating_action = SelectField(
        "When a requester rates a resolution 1 or 2 of 5",
        choices=[
            ("notify_manager", "Tell the department's managers (in the app and by email)"),
            ("reopen", "Reopen the ticket"),
            ("nothing", "Nothing"),
        ],
    )
    require_2fa_for_admins = BooleanField(
        "Org admins must use two-factor sign-in",
        description="Each org admin is asked to set it up at their next page, and cannot turn it off.",
    )


for _day in orgs.WEEKDAYS:
    setattr(SettingsForm, _day.lower(), StringField(_day, description="e.g. 09:00-12:00, 13:00-17:00; empty: closed"))


class SettingsView(ConsoleAccess, BaseView):
    @expose("/", methods=("GET", "POST"))
    def index(self):
        org = current_user.organization
        hours = orgs.weekly_hours(org)
        form = SettingsForm(obj=org, data={day: orgs.format_periods(hours[i]) for i, day in enumerate(DAY_FIELDS)})
        if form.validate_on_submit():
            try:
                week = {i: orgs.parse_periods(form[day].data, day) for i, day in enumerate(DAY_FIELDS)}
                orgs.update_settings(
                    org,
                    name=form.name.data,
                    timezone=form.timezone.data.strip(),
                    warning_percent=form.sla_warning_percent.data,
                    hours=week,
                    low_rating_action=form.low_rating_action.data,
                    require_2fa_for_admins=form.require_2fa_for_admins.data,
                )
            except ValidationError as error:
                db.session.rollback()
                for name, message in error.fields.items():
                    form[name].errors.append(message)
                if not error.fields:
                    flash(error.message, "error")
            else:
                db.session.commit()
                flash(
                    "Settings saved. The next SLA sweep (within a minute) recomputes the due times of open "
                    "tickets; the time they have already counted is kept.",
                    "success",
                )
                return redirect(url_for(".index"))
        return self.render("admin/settings.html", form=form, day_fields=DAY_FIELDS)


class DirectorySourceForm(FlaskForm):
    directory_url = StringField(
        "Directory source (https)",
        validators=[Optional(), Length(max=directory_sync.URL_MAX)],
        description="A CSV in the directory import's columns (employee_id, first_name, last_name, email, "
        "department, role), read by the server on a public https address. Empty: upload only.",
    )
    directory_sync_hours = SelectField(
        "Read it every",
        coerce=int,
        choices=[(h, f"{h} hour{'s' if h > 1 else ''}" if h < 168 else "week") for h in directory_sync.HOURS_CHOICES],
    )


class DirectorySyncView(ConsoleAccess, BaseView):
    """The directory source: where and how often; a preview of its diff; the runs so far."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        org = current_user.organization
        form = DirectorySourceForm(obj=org)
        if form.validate_on_submit():
            action = request.form.get("action", "save")
            try:
                directory_sync.save_source(
                    org, form.directory_url.data, form.directory_sync_hours.data, actor=current_user
                )
                db.session.commit()
                if action in ("preview", "sync"):
                    run = directory_sync.run_now(org, apply=action == "sync", actor=current_user, now=utcnow())
                    flash(_outcome(run), "error" if run.status == "failed" else "success")
                else:
                    flash(
                        "Directory source saved."
                        if org.directory_url
                        else "No directory source: the directory is kept by CSV upload.",
                        "success",
                    )
            except ValidationError as error:
                db.session.rollback()
                for name, message in error.fields.items():
                    form[name].errors.append(message)
            else:
                return redirect(url_for(".index"))
        return self.render(
            "admin/directory_sync.html",
            form=form,
            runs=directory_sync.recent_runs(org),
            diff_lines=directory_sync.diff_lines,
        ), 422 if form.errors else 200


def _outcome(run):
    counts = f"{run.added} added, {run.changed} changed, {run.removed} removed"
    return {
        "applied": f"Directory synced: {counts}.",
        "unchanged": "Directory read: nothing has changed.",
        "previewed": f"Preview: syncing now would make {counts}. Nothing was changed.",
        "failed": f"The directory was not synced: {run.error}",
    }.get(run.status, run.status)
