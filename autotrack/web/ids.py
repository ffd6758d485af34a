"""Row ids in URLs: `<int:...>` matches only numbers that can name a row.

Werkzeug's own int converter takes any number of digits, and a 30-digit id then reaches the
database (SQLite refuses past 2**63, MariaDB past BIGINT): a 500 instead of a 404. Registered
as the app's `int` converter, so every route of every portal gets the bound without asking.
"""

from werkzeug.routing import IntegerConverter

from autotrack.services.tenancy import MAX_ID


class IdConverter(IntegerConverter):
    """A positive whole number a row id can be (1..MAX_ID); anything else does not match (404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app):
    """Before any blueprint is registered: rules pick their converter when they are added."""
    app.url_map.converters["int"] = IdConverter
