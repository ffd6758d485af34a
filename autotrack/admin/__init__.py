"""The organization console (Flask-Admin) at /admin, for org admins only."""
from flask import abort, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from sqlalchemy import func, select

from autotrack.extensions import db
from autotrack.models import ACTIVE_STATES, Department, Ticket, User
from autotrack.services import policy


class SecureIndexView(AdminIndexView):
    """The console home: org admins only; others get 403, anonymous users the login page."""

    def is_accessible(self):
        return current_user.is_authenticated and policy.can(current_user, "portal.admin")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/")
    def index(self):
        org_id = current_user.org_id
        stats = {
            "open_tickets": db.session.scalar(
                select(func.count()).select_from(Ticket)
                .where(Ticket.org_id == org_id, Ticket.state.in_(ACTIVE_STATES))),
            "users": db.session.scalar(select(func.count()).select_from(User).where(User.org_id == org_id)),
            "departments": db.session.scalar(
                select(func.count()).select_from(Department).where(Department.org_id == org_id)),
        }
        return self.render("admin/dashboard.html", stats=stats, organization=current_user.organization)


def init_admin(app):
    """Build the Admin per app: a module-level Admin would collide between test apps."""
    admin = Admin(app, name="AutoTrack console", url="/admin", theme=Bootstrap4Theme(),
                  index_view=SecureIndexView(url="/admin", endpoint="admin"))
    return admin
