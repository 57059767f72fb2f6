"""Benchmark: ingest the real Netflix catalog into an empty database and report titles/s.

    python bench/ingest.py [--runs N]

Starts a throwaway embedded Postgres in a temporary directory and, for every run, creates and
migrates a fresh database, then times ``ingest_catalog_file`` end to end (CSV parse,
validation, COPY to staging, merge, commit) followed by a no-op re-ingest of the same file on
the same database.

The phase breakdown is wall-clock time between the ingest's progress callbacks. While the
file is being validated, chunks of titles are merged in the background (pipeline mode), so
the first phase covers reading, validating and the per-chunk merge together; the time spent
on COPY and waiting for the server inside it is shown underneath. Reading and validating
alone (no database) is timed once for reference. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "netflix_titles.csv"
TABLES = ("titles", "tags", "title_tags", "people", "credits", "countries", "title_countries")


def _step_label(sql: str) -> str:
    """``merge: <table>`` for a merge step, from its SQL."""
    words = " ".join(sql.split())
    match = re.match(r"(INSERT INTO|DELETE FROM) (\w+)", words)
    if not match:
        return "merge: " + words[:30]
    verb = "delete old" if match.group(1) == "DELETE FROM" else "insert"
    extra = " (updated titles)" if "ON CONFLICT (title_id, tag_id)" in words else ""
    return f"merge: {verb} {match.group(2)}{extra}"


@contextmanager
def _timed(module: Any, attr: str, totals: dict[str, float], label: str) -> Iterator[None]:
    """Add the time spent in ``module.attr`` (a function or method) to ``totals[label]``."""
    original: Callable[..., Any] | None = getattr(module, attr, None)
    if original is None:  # not there (any more): no timing
        yield
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started

    setattr(module, attr, timed)
    try:
        yield
    finally:
        setattr(module, attr, original)


def _ingest(engine: Any, path: Path, *, phases: bool) -> tuple[float, Any, dict[str, float]]:
    """One timed ingest (commit included); with ``phases``, also its phase breakdown."""
    from server.catalog import ingest

    marks: list[tuple[float, str, int]] = []
    inner: dict[str, float] = defaultdict(float)

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "read" and marks and marks[-1][1] == "read":
            marks.pop()  # keep only the last report of the read phase
        marks.append((time.perf_counter(), phase, done))

    merge_class = getattr(ingest, "_Merge", None)
    with _timed(ingest, "copy_rows", inner, "COPY to staging"):
        with _timed(merge_class, "_wait", inner, "waiting for the server"):
            started = time.perf_counter()
            with engine.begin() as conn:
                summary = ingest.ingest_catalog_file(
                    conn, path, fmt="netflix-csv", progress=progress if phases else None
                )
                returned = time.perf_counter()
            ended = time.perf_counter()
    if not phases:
        return ended - started, summary, {}

    breakdown: dict[str, float] = {}
    previous = started
    steps = [_step_label(sql) for sql in ingest._MERGE_STEPS]
    for stamp, phase, done in marks:
        if phase == "read":
            label = "read + validate (+ chunk merges)"
        elif phase == "stage":
            label = "last chunk merge (tail)"
        else:
            label = steps[done - 1] if done - 1 < len(steps) else f"merge step {done}"
        breakdown[label] = breakdown.get(label, 0.0) + stamp - previous
        previous = stamp
    breakdown["counts + cleanup"] = returned - previous
    breakdown["commit"] = ended - returned
    for label, seconds in inner.items():
        breakdown["  of which " + label] = seconds
    return ended - started, summary, breakdown


def _read_and_validate_alone(path: Path) -> float:
    from server.catalog.ingest import validate_rows
    from server.catalog.readers import read_rows
    from server.catalog.records import RecordValidator

    started = time.perf_counter()
    validate_rows(read_rows(path, "netflix-csv"), RecordValidator())
    return time.perf_counter() - started


def _counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="number of runs (default 3)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not DATA_FILE.is_file():
        print(
            f"error: the real catalog is missing: {DATA_FILE}\n"
            "(expected ../shared/data/netflix_titles.csv beside the repository)",
            file=sys.stderr,
        )
        return 2

    from sqlalchemy import pool

    from server.db import migrations
    from server.db.embedded import EmbeddedPostgres
    from server.db.engine import make_engine

    logging.getLogger("alembic").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

    firsts: list[float] = []
    reruns: list[float] = []
    breakdowns: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    titles = 0
    with tempfile.TemporaryDirectory(prefix="contentintel-bench-") as tmp:
        print(f"catalog: {DATA_FILE}")
        print(f"starting a throwaway embedded Postgres in {tmp}", flush=True)
        with EmbeddedPostgres(Path(tmp), cleanup_mode="delete") as pg:
            print()
            print(
                f"{'run':>4} {'ingest (s)':>11} {'titles/s':>9} {'re-ingest (s)':>14} {'ratio':>6}"
            )
            for run in range(1, args.runs + 1):
                database = f"bench_ingest_{run}"
                pg.ensure_database(database)
                url = pg.sqlalchemy_url(database)
                migrations.upgrade(url)
                engine = make_engine(url, poolclass=pool.NullPool)
                try:
                    first, summary, breakdown = _ingest(engine, DATA_FILE, phases=True)
                    if summary.updated or summary.unchanged or not summary.inserted:
                        print(f"error: run {run} did not start from an empty database: {summary}")
                        return 1
                    titles = summary.inserted
                    rerun, again, _ = _ingest(engine, DATA_FILE, phases=False)
                    if again.inserted or again.updated:
                        print(
                            f"warning: the re-ingest changed rows (inserted {again.inserted}, "
                            f"updated {again.updated})",
                            file=sys.stderr,
                        )
                    counts = _counts(engine)
                finally:
                    engine.dispose()
                firsts.append(first)
                reruns.append(rerun)
                breakdowns.append(breakdown)
                print(
                    f"{run:>4} {first:>11.3f} {_rate(titles, first):>9} "
                    f"{rerun:>14.3f} {rerun / first:>6.2f}",
                    flush=True,
                )

    first = statistics.median(firsts)
    rerun = statistics.median(reruns)
    print(
        f"{'med':>4} {first:>11.3f} {_rate(titles, first):>9} {rerun:>14.3f} {rerun / first:>6.2f}"
    )
    print()
    print(
        f"median: {_rate(titles, first)} titles/s ({titles} titles in {first:.3f} s); "
        f"no-op re-ingest {rerun:.3f} s = {rerun / first:.2f} x the first ingest"
    )
    print("rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    print()
    print("phase breakdown, wall-clock seconds (median over runs):")
    labels = list(dict.fromkeys(label for b in breakdowns for label in b))
    for label in labels:
        print(f"  {label:<42} {statistics.median(b.get(label, 0.0) for b in breakdowns):>7.3f}")
    alone = _read_and_validate_alone(DATA_FILE)
    print(f"  {'reference: read + validate alone, no DB':<42} {alone:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
