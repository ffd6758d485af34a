"""/feedback/<reference>/<token>: the resolution email's rating link. No sign-in: the token is
the key, single-use and good for its own ticket only (services/tickets/feedback.py)."""

from flask import Blueprint, render_template, request

from autotrack.extensions import db
from autotrack.models.types import utcnow
from autotrack.services.errors import DomainError
from autotrack.services.tickets import feedback
from autotrack.web.ticket_forms import FeedbackForm

bp = Blueprint("feedback", __name__)


@bp.route("/feedback/<reference>/<token>", methods=["GET", "POST"])
def rate(reference, token):
    asked = feedback.by_link(reference, token)  # NotFound: the error page says the link is not valid
    if asked.rated_at is not None:
        return render_template(
            "feedback/thanks.html", asked=asked, already=True
        ), 200 if request.method == "GET" else 409
    form = FeedbackForm()
    if request.method == "GET" and request.args.get("rating") in {str(v) for v in feedback.RATINGS}:
        form.rating.data = request.args["rating"]  # preselected by the email's link; a click still confirms
    if form.validate_on_submit():
        try:
            feedback.rate(asked, form.rating.data, form.comment.data, now=utcnow())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            form.rating.errors.append(error.message)
        else:
            return render_template("feedback/thanks.html", asked=asked, already=False)
    return render_template(
        "feedback/form.html", asked=asked, form=form, action=request.path
    ), 200 if request.method == "GET" or not form.errors else 400
