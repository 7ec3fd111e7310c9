"""The run catalog: one row per run in an embedded DuckDB database, queryable with SQL.

Every ``purgesim run`` (and every rep of an ensemble) registers itself as ``running`` before
the simulation starts and is marked ``complete`` (or ``failed``) when its results are written,
so a run killed halfway stays ``running`` with no finish time; ``purgesim runs`` shows it as
``incomplete`` once the process that registered it is gone.

The database has one writer at a time (DuckDB locks the file per process). Each write opens a
connection, commits one short transaction and closes it, so the lock is held for milliseconds
and a kill at any moment loses at most the transaction in flight: DuckDB's write-ahead log is
replayed on the next open. A writer that finds the file locked by another process retries for
a few seconds. In an ensemble only the parent process writes.

Where the catalog lives: ``--catalog PATH``, else the environment variable
``PURGESIM_CATALOG``, else ``catalog.duckdb`` in the user's data folder (``platformdirs``:
``~/.local/share/purgesim/`` on Linux).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from purgesim.retry import retry

ENV = "PURGESIM_CATALOG"
STATUSES = ("running", "complete", "failed")
"""Stored statuses. ``purgesim runs`` also shows ``incomplete``: a ``running`` row whose
process (on this host) is gone, and ``replaced``: a run whose output folder a later run took
over (``run --out DIR --force``; its ``replaced_by`` column names that run)."""
SHOWN_STATUSES = ("running", "incomplete", "complete", "failed", "replaced")
LOCK_WAIT_SECONDS = 15.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id         VARCHAR PRIMARY KEY,
    ensemble       VARCHAR,           -- shared by the reps of one `run --reps`
    command        VARCHAR NOT NULL,  -- 'run' (compare does not register its runs yet)
    scenario       VARCHAR NOT NULL,
    seed           BIGINT NOT NULL,
    scale          BIGINT NOT NULL,
    weeks          INTEGER,
    version        VARCHAR,
    git_commit     VARCHAR,
    host           VARCHAR,
    pid            INTEGER,           -- of the process that registered the row
    started        TIMESTAMP NOT NULL,  -- UTC
    finished       TIMESTAMP,           -- UTC; null while running (or if killed)
    wall_seconds   DOUBLE,
    status         VARCHAR NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    error          VARCHAR,
    out_dir        VARCHAR,           -- absolute; null without --out
    arrested       BIGINT,
    convicted      BIGINT,
    cat1           BIGINT,
    innocent_share DOUBLE,
    summary        JSON               -- the `purgesim run --json` object
);
ALTER TABLE runs ADD COLUMN IF NOT EXISTS replaced_by VARCHAR  -- the run that took its folder
"""
COLUMNS = ("run_id", "ensemble", "command", "scenario", "seed", "scale", "weeks", "version",
           "git_commit", "host", "pid", "started", "finished", "wall_seconds", "status", "error",
           "out_dir", "arrested", "convicted", "cat1", "innocent_share", "summary", "replaced_by")


class CatalogError(RuntimeError):
    """The catalog could not be read or written (locked too long, unreadable, bad SQL)."""


def default_path() -> Path:
    """``catalog.duckdb`` in the user's data folder."""
    import platformdirs

    return platformdirs.user_data_path("purgesim", appauthor=False) / "catalog.duckdb"


def resolve_path(explicit: str | Path | None = None) -> Path:
    """``explicit`` if given, else ``$PURGESIM_CATALOG`` if set and not empty, else
    :func:`default_path`."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(ENV, "")
    return Path(env).expanduser() if env else default_path()


def utcnow() -> dt.datetime:
    """Now in UTC, without a time zone (the catalog's TIMESTAMP columns are UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_id() -> str:
    """A fresh run id: 12 hex digits."""
    return uuid.uuid4().hex[:12]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    except OSError:
        return False
    return True


def shown_status(row: dict[str, Any], host: str | None = None) -> str:
    """The status to show: a ``running`` row whose process is gone from this host is
    ``incomplete`` (killed, or the machine went down). A row from another host cannot be
    checked and is shown as stored."""
    if row.get("replaced_by"):
        return "replaced"
    if row["status"] != "running":
        return str(row["status"])
    if row.get("host") == (host or socket.gethostname()) and row.get("pid") is not None:
        return "running" if _process_alive(int(row["pid"])) else "incomplete"
    return "running"


class Catalog:
    """The run catalog at ``path`` (created with its folder on the first write).

    With ``on_error``, a write that fails calls it with a one-line message and returns
    ``None`` instead of raising: a run must not fail because its catalog is unavailable.
    """

    def __init__(self, path: str | Path | None = None,
                 on_error: Callable[[str], None] | None = None):
        self.path = resolve_path(path)
        self.on_error = on_error

    # ------------------------------------------------------------------ connections
    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one short piece of work, closed on exit. Waits (up to
        ``LOCK_WAIT_SECONDS``) while another process holds the file. A read-only connection
        to a catalog that does not exist yet gets an empty in-memory ``runs`` table."""
        if read_only and not self.path.exists():
            con = duckdb.connect(":memory:")
            try:
                con.execute(SCHEMA)
                yield con
            finally:
                con.close()
            return
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = retry(lambda: duckdb.connect(str(self.path), read_only=read_only),
                        seconds=LOCK_WAIT_SECONDS, again=_locked)
        except duckdb.Error as exc:
            raise CatalogError(f"catalog {self.path}: {_first_line(exc)}") from exc
        try:
            if not read_only:
                con.execute(SCHEMA)
            yield con
        finally:
            con.close()

    def _write(self, sql: str, params: Sequence[Any]) -> bool:
        try:
            with self.connect() as con:
                con.execute(sql, list(params))
        except (duckdb.InterruptException, RuntimeError) as exc:
            # Ctrl-C while DuckDB runs a query reaches Python as DuckDB's own error (a plain
            # RuntimeError "Query interrupted" from an execute): it is the user's interrupt
            if isinstance(exc, duckdb.InterruptException) or "interrupted" in str(exc):
                raise KeyboardInterrupt from exc
            raise
        except (CatalogError, duckdb.Error, OSError) as exc:
            message = (str(exc) if isinstance(exc, CatalogError)
                       else f"catalog {self.path}: {_first_line(exc)}")
            if self.on_error is None:
                raise CatalogError(message) from exc
            self.on_error(message)
            return False
        return True

    # ------------------------------------------------------------------ writes
    def start(self, *, scenario: str, seed: int, scale: int, weeks: int | None = None,
              out_dir: str | Path | None = None, command: str = "run",
              ensemble: str | None = None, run_id: str | None = None) -> str:
        """Register a run as ``running``, now; return its id."""
        from purgesim.files import git_commit
        from purgesim.version import __version__

        run_id = run_id or new_id()
        self._write(
            "INSERT INTO runs (run_id, ensemble, command, scenario, seed, scale, weeks, version, "
            "git_commit, host, pid, started, status, out_dir) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)",
            [run_id, ensemble, command, scenario, seed, scale, weeks, __version__,
             git_commit(), socket.gethostname(), os.getpid(), utcnow(),
             None if out_dir is None else str(Path(out_dir).resolve())])
        return run_id

    def complete(self, run_id: str, summary: dict[str, Any], wall_seconds: float,
                 started: dt.datetime | None = None, finished: dt.datetime | None = None
                 ) -> bool:
        """Mark a run ``complete`` with its summary. ``started`` (if given) replaces the
        registration time, for a rep that waited for a worker."""
        totals = summary.get("totals", {})
        return self._write(
            "UPDATE runs SET status = 'complete', finished = ?, wall_seconds = ?, "
            "started = coalesce(?, started), arrested = ?, convicted = ?, cat1 = ?, "
            "innocent_share = ?, summary = ?, error = NULL WHERE run_id = ?",
            [finished or utcnow(), round(wall_seconds, 3), started, totals.get("arrested"),
             totals.get("convicted"), totals.get("cat1"), summary.get("innocent_share"),
             json.dumps(summary), run_id])

    def replace(self, folders: Sequence[str | Path], by: str) -> bool:
        """Mark the runs whose output folder is one of ``folders`` as replaced by the run
        ``by`` (``run --out DIR --force``): they leave the ``events`` and ``weekly`` views."""
        paths = [str(Path(f).resolve()) for f in folders]
        if not paths:
            return True
        return self._write(
            "UPDATE runs SET replaced_by = ? WHERE out_dir IN (SELECT unnest(?)) AND run_id <> ? "
            "AND replaced_by IS NULL", [by, paths, by])

    def fail(self, run_id: str, error: str, wall_seconds: float | None = None) -> bool:
        """Mark a run ``failed`` with a one-line reason."""
        return self._write(
            "UPDATE runs SET status = 'failed', finished = ?, wall_seconds = ?, error = ? "
            "WHERE run_id = ?",
            [utcnow(), None if wall_seconds is None else round(wall_seconds, 3), error[:2000],
             run_id])

    # ------------------------------------------------------------------ reads
    def runs(self, scenario: str | None = None, status: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Rows of the catalog, newest first, each with ``shown_status``; ``status`` filters
        on the shown status (``incomplete`` and ``running`` are told apart here)."""
        where, params = [], []
        if scenario is not None:
            where.append("scenario = ?")
            params.append(scenario)
        if status is not None:
            if status not in SHOWN_STATUSES:
                raise CatalogError(f"status {status!r}: allowed: {', '.join(SHOWN_STATUSES)}")
            where.append("status = ?")
            params.append({"incomplete": "running", "replaced": "complete"}.get(status, status))
        sql = "SELECT {columns} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, run_id"
        derived = status in ("running", "incomplete", "complete", "replaced")
        if limit is not None and not derived:
            sql += f" LIMIT {int(limit)}"
        try:
            with self.connect(read_only=True) as con:
                sql = sql.format(columns=", ".join(_columns(con)))
                rows = con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise CatalogError(f"catalog {self.path}: {_first_line(exc)}") from exc
        host = socket.gethostname()
        out = []
        for values in rows:
            row = dict(zip(COLUMNS, values, strict=True))
            row["summary"] = None if row["summary"] is None else json.loads(row["summary"])
            row["shown_status"] = shown_status(row, host)
            if status is None or row["shown_status"] == status:
                out.append(row)
        return out if limit is None else out[:limit]

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one SQL query that only reads; return column names and rows. Besides ``runs``,
        the query sees the views ``events`` and ``weekly``: the Parquet tables of every
        complete run whose output folder still holds them (each folder counted once, for the
        run that wrote it), with a ``run_id`` column first.

        Safe by construction: the database is opened read-only; the statement must be one
        query (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE, SHOW, EXPLAIN), never COPY,
        EXPORT, ATTACH, INSTALL, SET...; and before it runs, file access is limited to the
        folders of the cataloged runs, extensions can be neither installed nor loaded, and
        these settings are locked."""
        try:
            with self.connect(read_only=True) as con:
                _only_a_query(con, sql)
                folders = _attach_run_tables(con)
                _lock_down(con, folders)
                cursor = con.execute(sql)
                if cursor.description is None:
                    return [], []
                names = [d[0] for d in cursor.description]
                return names, cursor.fetchall()
        except duckdb.Error as exc:
            raise CatalogError(_first_line(exc)) from exc


READING = ("SELECT", "EXPLAIN")
"""Statement types `purgesim sql` runs (DuckDB parses DESCRIBE, SUMMARIZE, SHOW, VALUES and
FROM-first queries as SELECT)."""


def _only_a_query(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise CatalogError(f"{len(statements)} statements; allowed: exactly one query (the "
                           "catalog is read-only)")
    kind = statements[0].type.name
    if kind not in READING:
        article = "an" if kind[:1] in "AEIOU" else "a"
        raise CatalogError(f"{article} {kind} statement; allowed: one query that only reads: SELECT, "
                           "WITH, FROM, VALUES, DESCRIBE, SUMMARIZE, SHOW or EXPLAIN (the "
                           "catalog and the runs' files are read-only)")


def _lock_down(con: duckdb.DuckDBPyConnection, folders: list[str]) -> None:
    """Limit file access to the runs' folders and lock the configuration: a query can then
    read a run's files by path, and nothing else on the disk or the network."""
    listing = ", ".join(_sql_string(f.rstrip("/") + "/") for f in folders)
    con.execute(f"SET allowed_directories = [{listing}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """:data:`COLUMNS`, with NULL for those a catalog written by an older version lacks."""
    have = {row[0] for row in con.execute("DESCRIBE runs").fetchall()}
    return [c if c in have else f"NULL AS {c}" for c in COLUMNS]


def _owner(folder: str) -> str | None:
    """The run id that the run folder's ``meta.json`` (written last) names."""
    try:
        meta = json.loads(Path(folder, "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get("run_id") if isinstance(meta, dict) else None


def _attach_run_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Temporary views ``events`` and ``weekly`` over the Parquet files of complete runs, each
    folder once, for the run that wrote it (its ``meta.json`` names it): a folder another
    run later wrote into counts for that run only. Return the folders of those runs."""
    replaced = "replaced_by IS NULL AND " if "replaced_by" in _columns(con) else ""
    dirs = con.execute(f"SELECT run_id, out_dir FROM runs WHERE {replaced}status = 'complete' "
                       "AND out_dir IS NOT NULL ORDER BY started, run_id").fetchall()
    dirs = [(run_id, out_dir) for run_id, out_dir in dirs if _owner(out_dir) == run_id]
    for table in ("events", "weekly"):
        files = [(run_id, f"{out_dir}/{table}.parquet") for run_id, out_dir in dirs
                 if Path(out_dir, f"{table}.parquet").is_file()]
        if not files:
            continue
        con.execute(f"CREATE TEMP TABLE _{table}_files (run_id VARCHAR, path VARCHAR)")
        con.executemany(f"INSERT INTO _{table}_files VALUES (?, ?)", files)
        listing = ", ".join(_sql_string(path) for _, path in files)
        try:
            con.execute(
                f"CREATE TEMP VIEW {table} AS SELECT f.run_id, t.* "
                f"FROM read_parquet([{listing}], union_by_name = true) AS t "
                f"JOIN _{table}_files AS f ON t.filename = f.path")
        except duckdb.Error:
            # an unreadable file must not block queries that do not need the view; a query
            # that does is told the view does not exist, and can read the files by path
            continue
    return [out_dir for _, out_dir in dirs]


def _locked(exc: Exception) -> bool:
    """Whether a connection failed because another process holds the file."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
