"""Security headers on every response.

The Content-Security-Policy runs scripts from our own origin only, plus inline ones carrying
this response's nonce (Flask-Admin's few); no inline event handlers, no `javascript:` URLs, no
eval. Styles may be inline (Bootstrap utilities in `style=`): they cannot run code. Pages may
not be framed (clickjacking), types are not sniffed, and in production browsers are told to use
HTTPS only (HSTS).
"""

import secrets

from flask import current_app, g


def csp_nonce():
    """This request's nonce (the same for every script tag of the page)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def policy(nonce):
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("AUTOTRACK_HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app):
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
