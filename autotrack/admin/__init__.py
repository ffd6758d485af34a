"""The organization console (Flask-Admin) at /admin, for org admins only."""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from autotrack.admin.base import SecureIndexView
from autotrack.admin.mail import register_mail_views
from autotrack.admin.views import register_views
from autotrack.web.headers import csp_nonce


def init_admin(app):
    """Build the Admin per app: a module-level Admin would collide between test apps."""
    admin = Admin(
        app,
        name="AutoTrack console",
        url="/admin",
        theme=Bootstrap4Theme(base_template="admin/console_base.html"),
        index_view=SecureIndexView(url="/admin", endpoint="admin"),
        csp_nonce_generator=csp_nonce,
    )
    register_views(admin)
    register_mail_views(admin)
    return admin
