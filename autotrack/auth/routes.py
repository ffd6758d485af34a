from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from autotrack.auth import bp
from autotrack.auth.forms import (
    CodeForm,
    LoginForm,
    LogoutForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    ResetForm,
    ResetRequestForm,
    TwoFactorOffForm,
)
from autotrack.extensions import db
from autotrack.models import User, utcnow
from autotrack.services import security_log
from autotrack.services.errors import DomainError, TooManyRequests
from autotrack.services.org import registration
from autotrack.services.people import accounts, password_links, sessions, two_factor
from autotrack.web import home_url, is_safe_next
from autotrack.web.limits import auth_limit

BAD_CREDENTIALS = "Invalid email or password. After {n} failed attempts an account is locked for {m} minutes."


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@auth_limit
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, now=utcnow())
        db.session.commit()  # failure counters and lockouts are kept either way
        if user is not None:
            target = form.next.data if is_safe_next(form.next.data) else None
            if two_factor.enabled(user):  # the password was right; the second factor decides
                session.clear()
                session["second_factor"] = {
                    "user_id": user.id,
                    "remember": bool(form.remember.data),
                    "next": target,
                    "since": utcnow().timestamp(),
                }
                return redirect(url_for("auth.second_factor"))
            _sign_in(user, remember=form.remember.data)
            return redirect(target or home_url(user))
        form.password.errors.append(
            BAD_CREDENTIALS.format(
                n=current_app.config["AUTOTRACK_LOGIN_MAX_FAILURES"],
                m=current_app.config["AUTOTRACK_LOGIN_LOCK_MINUTES"],
            )
        )
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@auth_limit
def register():
    """Staff open their own account; the organization's directory must know them."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = registration.register(
                form.organization.data, form.employee_id.data, form.email.data, form.password.data
            )
        except DomainError as error:
            db.session.rollback()
            for name, message in error.fields.items():
                getattr(form, name, form.email).errors.append(message)
            flash(error.message, "danger")
            return render_template("auth/register.html", form=form), 422
        _sign_in(user)
        flash(f"Welcome, {user.name}: your account is ready.", "success")
        return redirect(home_url(user))
    return render_template("auth/register.html", form=form)


def _sign_in(user, remember=False):
    """A fresh session: whatever the browser's cookie held before is dropped (no session
    fixation), and the new one is a row the server can end."""
    session.clear()
    sessions.start(
        user, remember=remember, user_agent=request.user_agent.string, address=request.remote_addr or "", now=utcnow()
    )
    login_user(user, remember=remember)
    db.session.commit()


def _sign_out(everywhere=False):
    """End this session on the server (or, `everywhere`, every session and API token of the
    user), so the cookie, even copied, no longer signs anyone in; then forget it here."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        (sessions.end_all if everywhere else sessions.end)(user, utcnow())
        security_log.record("signed_out_everywhere" if everywhere else "sign_out", user=user, now=utcnow())
        db.session.commit()
    logout_user()
    session.clear()
    # Flask-Login deletes the remember-me cookie when the session says so; clearing the session
    # above dropped that word, so say it again (the browser forgets the cookie, not just the server).
    session["_remember"] = "clear"


@bp.route("/logout", methods=["POST"])
def logout():
    if LogoutForm().validate_on_submit():
        _sign_out()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


# --- the user's own account ----------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Name, password, the sessions signed in, and a way to end them all."""
    profile, password = ProfileForm(prefix="profile", obj=current_user), PasswordChangeForm(prefix="password")
    status = 200
    action = request.form.get("action")
    try:
        if action == "profile" and profile.validate_on_submit():
            accounts.change_name(current_user, profile.name.data)
            db.session.commit()
            flash("Your name is saved.", "success")
            return redirect(url_for("auth.account"))
        if action == "password" and password.validate_on_submit():
            accounts.change_password(current_user, password.current.data, password.password.data)
            _sign_in(current_user)  # every other session ended with the change; this one goes on, anew
            flash("Your password is changed. Your other sessions and API tokens have ended.", "success")
            return redirect(url_for("auth.account"))
    except DomainError as error:
        db.session.rollback()
        form = profile if action == "profile" else password
        for name, message in (error.fields or {"password": error.message}).items():
            getattr(form, name, form.password if form is password else form.name).errors.append(message)
    if request.method == "POST":
        status = 422
    return render_template(
        "auth/account.html",
        profile=profile,
        password=password,
        logout_form=LogoutForm(),
        live_sessions=sessions.live_sessions(current_user, utcnow()),
        code_form=CodeForm(),
        off_form=TwoFactorOffForm(),
        recovery_left=two_factor.remaining_codes(current_user),
    ), status


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    if LogoutForm().validate_on_submit():
        _sign_out(everywhere=True)
        flash("You are signed out everywhere: every session and API token of yours has ended.", "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.account"))


# --- forgotten passwords and invitations -----------------------------------------------------------


@bp.route("/reset", methods=["GET", "POST"])
@auth_limit
def reset_request():
    """Ask for a reset link: the same answer whether or not the address has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        try:
            password_links.request_reset(form.email.data, request.remote_addr or "", now=utcnow())
        except TooManyRequests as error:
            db.session.rollback()
            form.email.errors.append(error.message)
            return render_template("auth/reset_request.html", form=form), 429, {"Retry-After": str(error.retry_after)}
        db.session.commit()
        flash(password_links.RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    """Choose a password through a reset or invitation link (single-use, expiring)."""
    if password_links.valid_token(token, now=utcnow()) is None:
        return render_template("auth/reset_invalid.html"), 410
    form = ResetForm()
    if form.validate_on_submit():
        try:
            user = password_links.use(token, form.password.data, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            form.password.errors.append(next(iter(error.fields.values()), error.message))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(f"Your password is set, {user.name}. Sign in with it.", "success")
            return redirect(url_for("auth.login"))
    # The token is in the path: tell the browser not to send it on as a referrer.
    return (
        render_template("auth/reset.html", form=form),
        422 if form.errors else 200,
        {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )


# --- two-factor sign-in ------------------------------------------------------------------------------

SECOND_FACTOR_MINUTES = 5  # between the password and the code


@bp.route("/login/code", methods=["GET", "POST"])
@auth_limit
def second_factor():
    """The second step of signing in: a code from the authenticator app (or a recovery code)."""
    pending = session.get("second_factor") or {}
    user = db.session.get(User, pending.get("user_id") or 0)
    if (
        user is None
        or not user.is_active
        or utcnow().timestamp() - pending.get("since", 0) > SECOND_FACTOR_MINUTES * 60
    ):
        session.pop("second_factor", None)
        flash("Sign in again, please.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            accepted = two_factor.verify(user, form.code.data, utcnow())
        except TooManyRequests as error:
            db.session.commit()
            session.pop("second_factor", None)
            flash(error.message, "danger")
            return redirect(url_for("auth.login"))
        db.session.commit()
        if accepted:
            _sign_in(user, remember=pending.get("remember", False))
            return redirect(pending.get("next") or home_url(user))
        form.code.errors.append("That code is not right, or was used already.")
    return render_template("auth/second_factor.html", form=form), 422 if form.errors else 200


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Turn two-factor sign-in on: scan the QR code, type the code the app shows."""
    if two_factor.enabled(current_user):
        return redirect(url_for("auth.account"))
    secret = session.get("totp_setup") or two_factor.new_secret()
    session["totp_setup"] = secret  # in the signed session only until confirmed
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable(current_user, secret, form.code.data, utcnow())
        except DomainError as error:
            db.session.rollback()
            form.code.errors.append(next(iter(error.fields.values()), error.message))
        else:
            db.session.commit()
            session.pop("totp_setup", None)
            flash("Two-factor sign-in is on. Keep these recovery codes somewhere safe: each works once.", "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    return render_template(
        "auth/two_factor_setup.html", form=form, secret=secret, qr=two_factor.qr_data_uri(current_user, secret)
    ), 422 if form.errors else 200


@bp.route("/account/two-factor/off", methods=["POST"])
@login_required
def two_factor_off():
    form = TwoFactorOffForm()
    if not form.validate_on_submit() or not two_factor.enabled(current_user):
        flash("Give your password and a current code to turn two-factor sign-in off.", "danger")
        return redirect(url_for("auth.account"))
    user = current_user._get_current_object()
    try:
        if not accounts.password_matches(user, form.password.data):
            raise DomainError("That is not your password.")
        if not two_factor.verify(user, form.code.data, utcnow(), recovery=False):
            db.session.commit()  # the wrong code counts
            raise DomainError("That code is not right.")
        two_factor.disable(user, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(f"Two-factor sign-in stays on: {error.message}", "danger")
        return redirect(url_for("auth.account"))
    db.session.commit()
    flash("Two-factor sign-in is off.", "info")
    return redirect(url_for("auth.account"))


@bp.route("/account/two-factor/codes", methods=["POST"])
@login_required
def recovery_codes():
    """New recovery codes (the old ones stop working), after a current code from the app."""
    form = CodeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit() and two_factor.enabled(user):
        try:
            accepted = two_factor.verify(user, form.code.data, utcnow(), recovery=False)
        except TooManyRequests as error:
            db.session.commit()
            flash(error.message, "danger")
            return redirect(url_for("auth.account"))
        if accepted:
            codes = two_factor.new_recovery_codes(user, utcnow())
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
        db.session.commit()
    flash("New recovery codes need a current code from your app.", "danger")
    return redirect(url_for("auth.account"))
