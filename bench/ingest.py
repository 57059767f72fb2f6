"""Benchmark: ingest the real Netflix catalog into an empty database and report titles/s.

    python bench/ingest.py [--runs N]

Starts a throwaway embedded Postgres in a temporary directory, migrates a fresh database for
every run, then times ``ingest_catalog_file`` end to end (CSV parse, validation, COPY to
staging, merge, commit) and a no-op re-ingest of the same file on the same database.

The phase breakdown comes from timing the statements the ingest sends (a thin wrapper around
the connection) and the Python-side helpers of ``server.catalog.ingest``; it is indicative,
not a profile. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "netflix_titles.csv"

# Statement label -> pattern, first match wins; anything else is reported as "other SQL".
_STATEMENT_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE | re.DOTALL))
    for label, pattern in (
        ("setup (DDL, SET)", r"^\s*(CREATE TEMP|SET |TRUNCATE stage_titles, stage_title_tags)"),
        ("countries", r"^\s*INSERT INTO countries"),
        ("analyze staging", r"^\s*ANALYZE"),
        ("merge: titles upsert", r"INSERT INTO titles"),
        ("merge: delete old links", r"^\s*DELETE FROM"),
        ("merge: tags", r"^\s*INSERT INTO tags"),
        ("merge: title_tags", r"^\s*INSERT INTO title_tags"),
        ("merge: people", r"INSERT INTO people"),
        ("merge: credits", r"^\s*INSERT INTO credits"),
        ("merge: title_countries", r"^\s*INSERT INTO title_countries"),
        ("counts + cleanup", r"^\s*(SELECT count|TRUNCATE)"),
    )
)

PHASE_ORDER = (
    "read + validate",
    "build stage rows",
    "setup (DDL, SET)",
    "countries",
    "COPY to staging",
    "analyze staging",
    "merge: titles upsert",
    "merge: delete old links",
    "merge: tags",
    "merge: title_tags",
    "merge: people",
    "merge: credits",
    "merge: title_countries",
    "counts + cleanup",
    "other SQL",
    "commit",
)


def _label(statement: str) -> str:
    for label, pattern in _STATEMENT_LABELS:
        if pattern.search(statement):
            return label
    return "other SQL"


class TimedConnection:
    """Forwards everything to a SQLAlchemy ``Connection``; times each ``execute`` call."""

    def __init__(self, conn: Any, timings: dict[str, float]) -> None:
        self._conn = conn
        self._timings = timings

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._conn.execute(statement, *args, **kwargs)
        finally:
            self._timings[_label(str(statement))] += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextmanager
def timed_helpers(timings: dict[str, float]) -> Iterator[None]:
    """Wrap the Python-side helpers of the ingest module to time them."""
    from server.catalog import ingest

    wrapped = {
        "read_rows": "read + validate",
        "validate_rows": "read + validate",
        "_stage_rows": "build stage rows",
        "_copy": "COPY to staging",
    }
    originals: dict[str, Callable[..., Any]] = {}
    for attr, label in wrapped.items():
        original = getattr(ingest, attr, None)
        if original is None:
            continue
        originals[attr] = original

        def timed(*args: Any, _f: Callable[..., Any] = original, _l: str = label, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return _f(*args, **kw)
            finally:
                timings[_l] += time.perf_counter() - started

        setattr(ingest, attr, timed)
    try:
        yield
    finally:
        for attr, original in originals.items():
            setattr(ingest, attr, original)


def _ingest_once(engine: Any, path: Path, *, with_phases: bool) -> tuple[float, Any, dict[str, float]]:
    from server.catalog.ingest import ingest_catalog_file

    timings: dict[str, float] = defaultdict(float)
    helpers: AbstractContextManager[None] = (
        timed_helpers(timings) if with_phases else nullcontext()
    )
    with helpers:
        started = time.perf_counter()
        with engine.begin() as conn:
            target = TimedConnection(conn, timings) if with_phases else conn
            summary = ingest_catalog_file(target, path, fmt="netflix-csv")
            before_commit = time.perf_counter()
        ended = time.perf_counter()
    timings["commit"] += ended - before_commit
    return ended - started, summary, dict(timings)


def _table_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import text

    tables = ("titles", "tags", "title_tags", "people", "credits", "countries", "title_countries")
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}


def _fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="number of runs (default 3)")
    parser.add_argument(
        "--no-phases",
        action="store_true",
        help="time without the per-phase instrumentation (pure end-to-end numbers)",
    )
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

    import logging
    import warnings

    from sqlalchemy import pool

    from server.db import migrations
    from server.db.embedded import EmbeddedPostgres
    from server.db.engine import make_engine

    logging.getLogger("alembic").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

    firsts: list[float] = []
    reruns: list[float] = []
    phases: list[dict[str, float]] = []
    titles = 0
    with tempfile.TemporaryDirectory(prefix="contentintel-bench-") as tmp:
        print(f"starting embedded Postgres in {tmp} ...", flush=True)
        with EmbeddedPostgres(Path(tmp), cleanup_mode="delete") as pg:
            print(f"catalog: {DATA_FILE}")
            print()
            print(f"{'run':>4} {'first (s)':>10} {'titles/s':>10} {'re-ingest (s)':>14} {'ratio':>7}")
            for run in range(1, args.runs + 1):
                name = f"bench_ingest_{run}"
                pg.ensure_database(name)
                url = pg.sqlalchemy_url(name)
                migrations.upgrade(url)
                engine = make_engine(url, poolclass=pool.NullPool)
                try:
                    first, summary, timings = _ingest_once(
                        engine, DATA_FILE, with_phases=not args.no_phases
                    )
                    if summary.inserted == 0 or summary.updated or summary.unchanged:
                        print(f"error: run {run}: the database was not empty ({summary})")
                        return 1
                    titles = summary.inserted
                    rerun, resummary, _ = _ingest_once(engine, DATA_FILE, with_phases=False)
                    if resummary.inserted or resummary.updated:
                        print(
                            f"warning: re-ingest changed rows: inserted {resummary.inserted}, "
                            f"updated {resummary.updated}",
                            file=sys.stderr,
                        )
                    if run == 1:
                        counts = _table_counts(engine)
                finally:
                    engine.dispose()
                firsts.append(first)
                reruns.append(rerun)
                phases.append(timings)
                print(
                    f"{run:>4} {first:>10.3f} {_fmt_rate(titles, first):>10} "
                    f"{rerun:>14.3f} {rerun / first:>7.2f}",
                    flush=True,
                )

    median_first = statistics.median(firsts)
    median_rerun = statistics.median(reruns)
    print(
        f"{'med':>4} {median_first:>10.3f} {_fmt_rate(titles, median_first):>10} "
        f"{median_rerun:>14.3f} {median_rerun / median_first:>7.2f}"
    )
    print()
    print(f"median: {_fmt_rate(titles, median_first)} titles/s ({titles} titles), "
          f"re-ingest/first = {median_rerun / median_first:.2f}")
    print("rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()))

    if not args.no_phases:
        print()
        print("phase breakdown, seconds (median over runs; instrumented runs):")
        labels = [p for p in PHASE_ORDER if any(p in t for t in phases)]
        labels += sorted({k for t in phases for k in t} - set(labels))
        for label in labels:
            values = [t.get(label, 0.0) for t in phases]
            print(f"  {label:<26} {statistics.median(values):>7.3f}")
        total = [sum(t.values()) for t in phases]
        print(f"  {'sum of phases':<26} {statistics.median(total):>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
