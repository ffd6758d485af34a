from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from autotrack.auth import bp
from autotrack.auth.forms import LoginForm, LogoutForm, RegisterForm
from autotrack.extensions import db
from autotrack.services import accounts, registration
from autotrack.services.errors import DomainError
from autotrack.web import home_url, is_safe_next

BAD_CREDENTIALS = (
    "Invalid email or password. After {n} failed attempts an account is locked for {m} minutes."
)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        db.session.commit()  # failure counters and lockouts are kept either way
        if user is not None:
            login_user(user, remember=form.remember.data)
            target = form.next.data
            return redirect(target if is_safe_next(target) else home_url(user))
        form.password.errors.append(BAD_CREDENTIALS.format(
            n=current_app.config["AUTOTRACK_LOGIN_MAX_FAILURES"],
            m=current_app.config["AUTOTRACK_LOGIN_LOCK_MINUTES"],
        ))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Staff open their own account; the organization's directory must know them."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = registration.register(form.organization.data, form.employee_id.data, form.email.data,
                                         form.password.data)
        except DomainError as error:
            db.session.rollback()
            for name, message in error.fields.items():
                getattr(form, name, form.email).errors.append(message)
            flash(error.message, "danger")
            return render_template("auth/register.html", form=form), 422
        db.session.commit()
        login_user(user)
        flash(f"Welcome, {user.name}: your account is ready.", "success")
        return redirect(home_url(user))
    return render_template("auth/register.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
