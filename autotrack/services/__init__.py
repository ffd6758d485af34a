"""Business rules. Services flush, never commit: the request or job that calls them commits once."""
