"""SQL the two databases spell differently: the firm's local day and month of a UTC moment,
and the elements of a JSON list (a complaint's categories).

`local_date` and `local_month` compile per dialect (SQLite keeps datetimes as UTC text; the
firm's zone, Asia/Shanghai, has had no daylight saving since 1991, so +8 hours is exact there;
PostgreSQL converts with the zone's name). `json_elements` needs the dialect when the query is
built, because the two are table-valued functions of different names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, String, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.clock import LOCAL_TZ
from portal.db import db

SQLITE_OFFSET = "+8 hours"  # Asia/Shanghai: UTC+8 all year


class local_date(FunctionElement):  # noqa: N801 - reads as a SQL function
    """The firm's calendar day (Asia/Shanghai) of a UTC datetime column."""

    type = Date()
    inherit_cache = True
    name = "local_date"


class local_month(FunctionElement):  # noqa: N801
    """'YYYY-MM' of the firm's calendar day of a UTC datetime column."""

    type = String()
    inherit_cache = True
    name = "local_month"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '{SQLITE_OFFSET}')"


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('{LOCAL_TZ.key}', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element: local_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '{SQLITE_OFFSET}')"


@compiles(local_month, "postgresql")
def _local_month_postgresql(element: local_month, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(timezone('{LOCAL_TZ.key}', {column}), 'YYYY-MM')"


def dialect() -> str:
    return db.engine.dialect.name


def json_elements(column: Any, name: str = "element") -> Any:
    """The text elements of a JSON list column, as a table with one column `value`
    (SQLite json_each, PostgreSQL json_array_elements_text), to join with ON true."""
    if dialect() == "postgresql":
        return func.json_array_elements_text(column).table_valued("value").alias(name)
    return func.json_each(column).table_valued("value").alias(name)
