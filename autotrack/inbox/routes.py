from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField

from autotrack.extensions import db
from autotrack.inbox import bp
from autotrack.models.types import utcnow
from autotrack.services import notifications, preferences
from autotrack.services.tenancy import parse_id
from autotrack.web import is_safe_next, live_stream, ticket_url


class MarkReadForm(FlaskForm):
    id = HiddenField()  # empty: all of them
    next = HiddenField()  # where to go afterwards (a local path)


@bp.route("/")
@login_required
def index():
    items, next_cursor = notifications.page_for(current_user, request.args.get("cursor"))
    return render_template("inbox/index.html", items=items, next_cursor=next_cursor, form=MarkReadForm())


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():
    """Mark one notification or all of them read, then go on to the notification's ticket or
    back to the list. Another user's notification id changes nothing."""
    form = MarkReadForm()
    if form.validate_on_submit():
        ids = [parse_id(form.id.data) or 0] if form.id.data else None
        changed = notifications.mark_read(current_user, ids, now=utcnow())
        db.session.commit()
        if ids is None:
            flash(f"{changed} notification(s) marked read.", "info")
    target = form.next.data
    return redirect(target if is_safe_next(target) else url_for(".index"))


@bp.route("/stream")
@login_required
def stream():
    """Server-sent events: the signed-in user's new notifications as they happen. Resumes after
    the browser's Last-Event-ID on a reconnect, else after ?after= (the newest id the page knew)."""
    after = parse_id(request.headers.get("Last-Event-ID") or request.args.get("after") or "") or 0
    events = live_stream.stream(current_user.id, after, ticket_url)
    return Response(
        stream_with_context(events),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """What reaches the user, per topic, by email and in the app. SLA notices always do."""
    form = FlaskForm()
    if form.validate_on_submit():
        preferences.save(
            current_user,
            {
                topic: {channel: request.form.get(f"{topic}.{channel}") == "on" for channel in preferences.CHANNELS}
                for topic in preferences.TOPICS
            },
        )
        db.session.commit()
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("inbox.settings"))
    return render_template(
        "inbox/settings.html", form=form, topics=preferences.TOPICS, chosen=preferences.for_user(current_user)
    )
