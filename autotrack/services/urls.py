"""Absolute links for what leaves the app (emails): built from AUTOTRACK_BASE_URL and endpoint
names, never from literal paths or the request's Host, so they work the same in a request, a job
or the CLI (only an app context is needed)."""

from urllib.parse import urlsplit

from flask import current_app

from autotrack.services import policy


def url(endpoint, **values):
    """The absolute URL of `endpoint` (a route name such as "agent.ticket") with `values`; values
    the route does not take become the query string."""
    base = urlsplit(current_app.config["AUTOTRACK_BASE_URL"].rstrip("/"))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def ticket_endpoint(user, ticket=None):
    """The route where `user` opens `ticket` (the portal rule lives in `policy.ticket_portal`)."""
    return f"{policy.ticket_portal(user, ticket)}.ticket"


def ticket(user, ticket):
    """The absolute link to `ticket` for `user`, in the portal they read it in."""
    return url(ticket_endpoint(user, ticket), reference=ticket.reference)
