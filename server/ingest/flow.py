"""The skeleton of a file ingest: read -> validate -> stage -> merge -> summary.

Every ingest runs in one transaction owned by the caller: a bad file, a strict-mode rejection
or Ctrl-C leaves the database as it was. What differs per format (the reader, the record
checks, the staging tables and merge SQL) is passed in; what is the same lives here: the
rejects file, strict mode, the session settings of a bulk load and pausing the cyclic garbage
collector while a million small records are built.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from server.ingest.readers import Progress
from server.ingest.rejects import write_rejects
from server.ingest.rows import RowError
from server.ingest.summary import PhaseProgress, StrictModeError

R = TypeVar("R")

INGEST_SETTINGS = "SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '64MB'"
"""For the rest of the ingest's transaction (``SET LOCAL``: they end with it).
``synchronous_commit = off``: the commit returns before its WAL is flushed. The whole load is
one transaction, so a crash right after the commit can lose that load as a whole, never half
of it (re-running the ingest redoes it); other transactions are not affected.
``work_mem``: the merge hashes and sorts the whole batch; keep that in memory."""


def tune_for_ingest(conn: Connection) -> None:
    conn.execute(text(INGEST_SETTINGS))


def read_progress(path: Path, progress: PhaseProgress | None) -> Progress | None:
    """``progress`` as the readers' byte callback: the ``read`` phase, out of the file size."""
    if progress is None:
        return None
    total = path.stat().st_size if path.exists() else 0
    return lambda done: progress("read", done, total)


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
    """Validation creates a million small objects and no cycles: the cyclic collector only
    slows it down (by about a third), so it is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle_rejections(
    summary: Any,
    rejected: list[RowError],
    *,
    strict: bool,
    rejects_path: Path | None,
) -> None:
    """Record the rejected rows on ``summary``, write them to ``rejects_path`` and, in strict
    mode, stop before anything is written (``StrictModeError``)."""
    summary.rejected = rejected
    if rejected and rejects_path is not None:
        write_rejects(rejects_path, rejected)
        summary.rejects_file = rejects_path
    if strict and rejected:
        raise StrictModeError(summary)


def validate_then_merge(
    conn: Connection,
    summary: Any,
    validate: Callable[[], tuple[Sequence[R], list[RowError]]],
    merge: Callable[[Sequence[R]], None],
    *,
    strict: bool,
    rejects_path: Path | None,
) -> Sequence[R]:
    """Validate every row first (``validate`` returns the accepted records and the row errors),
    settle the rejections, then, when anything was accepted, tune the transaction for a bulk
    load and ``merge``. Returns the accepted records."""
    with without_gc():
        records, rejected = validate()
    settle_rejections(summary, rejected, strict=strict, rejects_path=rejects_path)
    if records:
        tune_for_ingest(conn)
        merge(records)
    return records
