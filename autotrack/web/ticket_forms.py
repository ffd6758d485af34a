"""Forms for working on a ticket, shared by the employee and agent pages."""

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from autotrack.services.tickets import COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX, feedback


def attachments_help():
    """The upload field's hint, with the limits in force."""
    config = current_app.config
    return (
        f"Optional. PDF, images, Office files, text, zip; up to {config['AUTOTRACK_ATTACHMENT_MAX_MB']} MB each, "
        f"{config['AUTOTRACK_ATTACHMENTS_PER_REQUEST']} files and "
        f"{config['AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB']} MB at a time."
    )


class _WithAttachments(FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.attachments.description = attachments_help()


class NewTicketForm(_WithAttachments):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    category_id = SelectField("Category", coerce=str, validators=[Optional()])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)], render_kw={"rows": 6})
    attachments = MultipleFileField("Attachments")


class FeedbackForm(FlaskForm):
    rating = RadioField(
        "How did we do?",
        choices=[(str(v), f"{v} · {label}") for v, label in feedback.RATINGS.items()],
        validators=[DataRequired(message="Choose a rating from 1 to 5.")],
    )
    comment = TextAreaField(
        "Anything to add? (optional)", validators=[Length(max=feedback.COMMENT_MAX)], render_kw={"rows": 3}
    )


class MergeForm(FlaskForm):
    into = StringField(
        "Merge into ticket", validators=[DataRequired(), Length(max=40)], render_kw={"placeholder": "e.g. ACME-1042"}
    )
    confirm = BooleanField(
        "This ticket is a duplicate: close it and move its replies there",
        validators=[DataRequired(message="Tick the box to confirm.")],
    )


class CcForm(FlaskForm):
    email = StringField(
        "Copy a colleague",
        validators=[DataRequired(message="Give your colleague's email address."), Length(max=254)],
        render_kw={"placeholder": "colleague@example.com", "type": "email"},
    )


class WatchForm(FlaskForm):
    """Follow, stop following or take someone off: the CSRF token is all it carries."""


class LinkForm(FlaskForm):
    ticket = StringField(
        "Link to ticket", validators=[DataRequired(), Length(max=40)], render_kw={"placeholder": "e.g. ACME-1042"}
    )
    kind = SelectField(
        "As",
        choices=[
            ("related", "related"),
            ("parent", "its parent (this one is the parent)"),
            ("child", "its child (this one is the child)"),
        ],
    )


class CannedReplyForm(FlaskForm):
    canned_id = HiddenField()
    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(
        "Text",
        validators=[DataRequired(), Length(max=10_000)],
        render_kw={"rows": 6},
        description="Placeholders: {{ requester.first_name }}, {{ ticket.reference }}, {{ agent.name }} …",
    )


class CommentForm(_WithAttachments):
    body = TextAreaField("Reply", validators=[DataRequired(), Length(max=COMMENT_MAX)], render_kw={"rows": 4})
    internal = BooleanField("Internal note (staff only)")
    attachments = MultipleFileField("Attachments")


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    assignee_id = SelectField("Assignee", coerce=str, validators=[Optional()], validate_choice=False)
    status_id = HiddenField()


class PriorityForm(FlaskForm):
    priority_id = SelectField("Priority", coerce=str, validators=[DataRequired()], validate_choice=False)


class TaskForm(FlaskForm):
    title = StringField("New task", validators=[DataRequired(), Length(max=TITLE_MAX)])
    assignee_id = SelectField("For", coerce=str, validators=[Optional()], validate_choice=False)
    due = DateTimeLocalField(
        "Due",
        validators=[Optional()],
        format="%Y-%m-%dT%H:%M",
        description="In your organization's time zone; optional.",
    )


class TaskDoneForm(FlaskForm):
    task_id = HiddenField(validators=[DataRequired()])
    done = HiddenField()  # "1": done; empty: not done again
