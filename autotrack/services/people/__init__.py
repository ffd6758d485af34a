"""People: accounts (passwords, lockout), users, roles (named permission sets), sessions
(server-side), two_factor, password_links (reset and invitation links) and api_tokens (JWT)."""
