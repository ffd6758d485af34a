"""/favicon.ico: browsers ask for it at the root whatever the page links to."""

from flask import current_app, send_from_directory


def favicon():
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=7 * 24 * 3600)


def init_app(app):
    app.add_url_rule("/favicon.ico", "favicon", favicon)
