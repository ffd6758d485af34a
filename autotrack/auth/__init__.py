from flask import Blueprint

bp = Blueprint("auth", __name__)

from autotrack.auth import routes  # noqa: E402,F401


@bp.before_app_request
def _second_factor_required():
    """An org admin whose organization requires two-factor sign-in sets it up before anything else."""
    from flask import flash, redirect, request, url_for
    from flask_login import current_user

    from autotrack.services.people import two_factor

    endpoint = request.endpoint or ""
    if (
        endpoint.endswith("static")
        or endpoint in ("auth.two_factor_setup", "auth.logout")
        or request.path.startswith("/api/")
    ):
        return None
    if current_user.is_authenticated and two_factor.required(current_user) and not two_factor.enabled(current_user):
        flash("Your organization requires two-factor sign-in for administrators: set it up to go on.", "warning")
        return redirect(url_for("auth.two_factor_setup"))
    return None
