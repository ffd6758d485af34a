"""Organization settings in the console: name, timezone, SLA warning point, business hours."""
from flask import flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange

from autotrack.admin.base import ConsoleAccess
from autotrack.extensions import db
from autotrack.services import orgs
from autotrack.services.errors import ValidationError

DAY_FIELDS = tuple(day.lower() for day in orgs.WEEKDAYS)


class SettingsForm(FlaskForm):
    name = StringField("Organization name", validators=[DataRequired()])
    timezone = StringField("Timezone", validators=[DataRequired()],
                           description="IANA name, e.g. Europe/Berlin; business hours and holidays are in it.")
    sla_warning_percent = IntegerField(
        "Warn at (% of an SLA window)", validators=[NumberRange(1, 99)],
        description="The assignee (or the leads) are warned once this share of a deadline's time has passed.")
    low_rating_action = SelectField(
        "When a requester rates a resolution 1 or 2 of 5",
        choices=[("notify_manager", "Tell the department's managers (in the app and by email)"),
                 ("reopen", "Reopen the ticket"), ("nothing", "Nothing")])


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
                orgs.update_settings(org, name=form.name.data, timezone=form.timezone.data.strip(),
                                     warning_percent=form.sla_warning_percent.data, hours=week,
                                     low_rating_action=form.low_rating_action.data)
            except ValidationError as error:
                db.session.rollback()
                for name, message in error.fields.items():
                    form[name].errors.append(message)
                if not error.fields:
                    flash(error.message, "error")
            else:
                db.session.commit()
                flash("Settings saved. The next SLA sweep (within a minute) recomputes the due times of open "
                      "tickets; the time they have already counted is kept.", "success")
                return redirect(url_for(".index"))
        return self.render("admin/settings.html", form=form, day_fields=DAY_FIELDS)
