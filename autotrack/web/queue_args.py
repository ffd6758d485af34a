"""A queue's filters read from a request (its query, a saved view's form field, the API's
checked arguments) into the typed value the queue service takes (services/tickets/queues.py)."""

from dataclasses import fields

from autotrack.services.tickets.queues import FilterArgs


def filter_args(args):
    """FilterArgs from a mapping of the query's names (request.args, a dict): missing is empty."""
    return FilterArgs(**{f.name: str(args.get(f.name) or "") for f in fields(FilterArgs)})
