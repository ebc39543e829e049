"""Core statements compiled once per dialect and run on the DBAPI cursor.

A task completion runs five statements. Through SQLAlchemy's execution context
(parameter processing, result proxy, events) each costs about 0.1 ms of CPU on
top of the driver's own 0.04 ms, which made SQLAlchemy the largest single cost of
a completion (bench/README.md). :class:`Prepared` keeps SQLAlchemy for what it is
good at — the SQL text for each dialect and the column types' bind and result
processors — and skips the per-execution machinery.

Limits, on purpose: no expanding ``IN`` or other post-compile parameters, no Python-side column
defaults (pass every value), no SQLAlchemy cursor events (so SQL loggers do not
see these statements).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sqlalchemy import String
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.exc import DBAPIError

try:
    from psycopg import _queries as _psycopg_queries
except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite alone does not need it
    _psycopg_queries = None

# psycopg converts a statement's ``%(name)s`` placeholders once and caches the result, but only for
# statements of at most 50 parameters and 4096 characters; beyond that it re-parses the SQL text on
# every execution (~1.5 ms for a completion's combined step write, engine/step_write.py, which has
# 50-120 parameters). Our statements are a fixed, small set of shapes, so a larger bound costs a
# few cached entries and keeps every execution on the cache.
DRIVER_CACHED_PARAMS = 256
DRIVER_CACHED_LENGTH = 16384
if _psycopg_queries is not None:
    _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS,
                                                       DRIVER_CACHED_PARAMS)
    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = max(_psycopg_queries.MAX_CACHED_STATEMENT_LENGTH,
                                                       DRIVER_CACHED_LENGTH)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None          # positional order, or None for named parameters
    binds: tuple[tuple[str, Callable | None], ...]
    literals: dict                          # values bound in the statement itself (WHERE state = 'ready')
    results: tuple[Callable | None, ...]


class Prepared:
    """One statement, compiled lazily per dialect, executed with plain dict parameters."""

    def __init__(self, statement, *, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[int, _Compiled] = {}

    def _for(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        found = self._compiled.get(id(dialect))
        if found is not None:
            return found
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        processors = compiled._bind_processors
        names = tuple(compiled.positiontup) if dialect.positional else None
        binds = tuple((name, processors.get(name)) for name in (names or compiled.bind_names.values()))
        results = tuple(rc[3]._cached_result_processor(dialect, None) for rc in compiled._result_columns)
        given = {b.key for b in compiled.bind_names if b.value is None and b.callable is None}
        literals = {name: value for name, value in compiled.construct_params(_check=False).items()
                    if name not in given and name not in (self.column_keys or ())}
        found = _Compiled(compiled.string, names, binds, literals, results)
        self._compiled[id(dialect)] = found
        return found

    def _params(self, c: _Compiled, params: dict) -> Any:
        if c.literals:
            params = {**c.literals, **params}
        if c.names is None:
            return {name: (proc(params[name]) if proc else params[name]) for name, proc in c.binds}
        return tuple(proc(params[name]) if proc else params[name] for name, proc in c.binds)

    def _run(self, connection: Connection, params: dict, fetch: bool = False):
        c = self._for(connection)
        cursor = _cursor_of(connection)
        try:
            cursor.execute(c.sql, self._params(c, params))
            return cursor.fetchone() if fetch else cursor.rowcount
        except connection.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(connection, c, exc) from exc

    def execute(self, connection: Connection, params: dict) -> int:
        """Run the statement in ``connection``'s transaction; returns the row count."""
        return self._run(connection, params)

    def executemany(self, connection: Connection, rows: Sequence[dict]) -> None:
        """Run the statement once per parameter set (a multi-row INSERT, say)."""
        if not rows:
            return
        if len(rows) == 1:  # psycopg's executemany sets up a pipeline: 1.7x the CPU of one execute
            self._run(connection, rows[0])
            return
        c = self._for(connection)
        cursor = _cursor_of(connection)
        try:
            cursor.executemany(c.sql, [self._params(c, row) for row in rows])
        except connection.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(connection, c, exc) from exc

    def first(self, connection: Connection, params: dict) -> tuple | None:
        """The first row, its values converted by the column types (as SQLAlchemy would)."""
        row = self._run(connection, params, fetch=True)
        if row is None:
            return None
        return tuple(proc(v) if proc else v for proc, v in zip(self._for(connection).results, row))


def _cursor_of(connection: Connection):
    """One DBAPI cursor per pooled DBAPI connection, reused by every prepared statement.

    Building a cursor (SQLAlchemy's proxy, then psycopg's) cost as much CPU as running
    a small statement. A pooled connection serves one thread at a time, and a cursor's
    next ``execute`` discards what the last one left, so reuse is safe; a replaced
    DBAPI connection (after invalidation) gets a new cursor.
    """
    fairy = connection.connection
    dbapi_connection = fairy.dbapi_connection
    cached = fairy.info.get("anjian_cursor")
    if cached is not None and cached[0] is dbapi_connection and not getattr(cached[1], "closed", False):
        return cached[1]
    cursor = dbapi_connection.cursor()
    fairy.info["anjian_cursor"] = (dbapi_connection, cursor)
    return cursor


def _wrapped(connection: Connection, c: _Compiled, exc: Exception) -> DBAPIError:
    # The same exception classes SQLAlchemy raises (IntegrityError, OperationalError…), so
    # callers handle a unique violation here exactly as on any other path.
    return DBAPIError.instance(c.sql, None, exc, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect)


class csv_agg(FunctionElement):
    """``string_agg(x, ',')`` on PostgreSQL, ``group_concat(x, ',')`` on SQLite, with the
    separator in the SQL text (SQLAlchemy's ``aggregate_strings`` binds it post-compile)."""

    type = String()
    name = "csv_agg"
    inherit_cache = True


@compiles(csv_agg)
def _csv_agg_default(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(csv_agg, "sqlite")
def _csv_agg_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"
