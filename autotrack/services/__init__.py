"""Business rules. A service called for a request flushes and the request commits once; the few
that commit themselves (counters that must outlive a failed request, work claimed in batches by
jobs) say so in their docstrings and are listed in docs/code-layout.md."""
