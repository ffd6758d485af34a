"""CSV import in the console: upload, preview every row, confirm (all or nothing)."""

from flask import Response, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField

from autotrack.admin.base import ConsoleAccess
from autotrack.extensions import db
from autotrack.models.types import utcnow
from autotrack.services.errors import DomainError
from autotrack.services.org import imports

# Where to look at the result of an import of each kind.
RESULT_VIEWS = {
    "departments": "department.index_view",
    "categories": "category.index_view",
    "priorities": "priority.index_view",
    "users": "user.index_view",
    "directory": "directoryentry.index_view",
    "holidays": "holiday.index_view",
}


class UploadForm(FlaskForm):
    kind = SelectField("What the file holds", choices=[(kind, kind.capitalize()) for kind in imports.KINDS])
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])


class ConfirmForm(FlaskForm):
    kind = HiddenField()
    token = HiddenField()


class ImportView(ConsoleAccess, BaseView):
    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = UploadForm(kind=request.args.get("kind"))
        if form.validate_on_submit():
            data = form.file.data.read(imports.MAX_BYTES + 1)
            try:
                report, _, _ = imports.plan(current_user.organization, form.kind.data, data)
            except DomainError as error:
                form.file.errors.append(error.message)
            else:
                db.session.rollback()  # planning writes nothing; drop what it loaded
                confirm = ConfirmForm(kind=form.kind.data, token=imports.stage(current_user.org_id, data, now=utcnow()))
                return self.render(
                    "admin/csv_import.html",
                    form=form,
                    report=report,
                    confirm=confirm,
                    filename=form.file.data.filename,
                    specs=imports.KINDS,
                )
        return self.render("admin/csv_import.html", form=form, report=None, specs=imports.KINDS)

    @expose("/confirm", methods=("POST",))
    def confirm(self):
        form = ConfirmForm()
        if not form.validate_on_submit() or form.kind.data not in imports.KINDS:
            flash("The import could not be confirmed; upload the file again.", "error")
            return redirect(url_for(".index"))
        try:
            data = imports.staged(current_user.org_id, form.token.data)
            report = imports.run(current_user.organization, form.kind.data, data, actor=current_user)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".index", kind=form.kind.data))
        if not report.ok:  # something changed since the preview
            return self.render(
                "admin/csv_import.html",
                form=UploadForm(kind=form.kind.data),
                report=report,
                confirm=None,
                filename=None,
                specs=imports.KINDS,
            )
        db.session.commit()
        imports.discard(current_user.org_id, form.token.data)
        flash(f"{form.kind.data.capitalize()} import: {report.summary()}", "success")
        return redirect(url_for(RESULT_VIEWS[form.kind.data]))

    @expose("/template/<kind>.csv")
    def template(self, kind):
        if kind not in imports.KINDS:
            return self.render("admin/csv_import.html", form=UploadForm(), report=None, specs=imports.KINDS), 404
        return Response(
            imports.template_csv(kind),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="autotrack-{kind}.csv"'},
        )
