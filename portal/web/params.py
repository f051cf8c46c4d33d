"""Numbers from the query string, bounded before they reach the database.

A page number becomes an OFFSET: one beyond what a database integer holds (2**63 - 1 in
PostgreSQL's BIGINT and SQLite's INTEGER) would end in an OverflowError inside the driver,
a 500. No list here comes near a million pages, so anything beyond that is a page that
does not exist (404).
"""

from __future__ import annotations

from flask import abort, request

PAGE_MAX = 1_000_000


def page_number(name: str = "page") -> int:
    """The page asked for: 1 when absent or not a number, 404 when beyond any page there is."""
    try:
        page = int(request.args.get(name, ""))
    except ValueError:  # also for a number too long to convert
        return 1
    if page > PAGE_MAX:
        abort(404)
    return max(page, 1)
