"""In-process CPU per request of the compiled hot paths against the executor.

    python bench/compiled.py [--pgdata DIR] [--requests 2000] [--queries titles,title,similar]

The catalog as bench/peers.py prepares it (the real one embedded with the hashing embedder;
``--pgdata DIR`` keeps the embedded cluster and reuses it). Two apps in this process, auth on,
logs at WARNING: one with ``CONTENTINTEL_COMPILED_QUERIES=off`` (the executor), one with the
compiled paths, the latter asked two ways: its JSON text spliced into the body as Postgres wrote
it (``EncodedJson``: what the HTTP layer does) and decoded then encoded again (as before).
bench/peers.py's queries, one request at a time straight into the ASGI app, the three variants
taking turns request by request (after 50 warm-up rounds); CPU ms of this process per request
(Postgres' work is not in it), mean of ``--requests``. The three bodies of the first requests
must be byte-identical. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from load import make_key  # noqa: E402
from peers import DATABASE, QUERIES, Ids, asgi_post, catalog_ids, prepare_catalog  # noqa: E402


async def measure(url: str, key: str, ids: Ids, queries: list[str], n: int) -> None:
    from server.app import create_app
    from server.config import load_settings
    from server.graphql import http
    from server.observability.logs import configure

    configure("WARNING", "json")
    executor_app = create_app(
        load_settings(auth="on", log_level="WARNING", compiled_queries="off"), database_url=url
    )
    compiled_app = create_app(load_settings(auth="on", log_level="WARNING"), database_url=url)
    headers = [(b"authorization", f"Bearer {key}".encode())]
    splice = {"on": True}
    run_operation = http.run_operation

    async def chosen(*args: Any, **kwargs: Any) -> Any:
        kwargs["encoded"] = splice["on"] and kwargs.get("encoded", False)
        return await run_operation(*args, **kwargs)

    http.run_operation = chosen  # type: ignore[assignment]

    async def executor(body: bytes) -> bytes:
        return await asgi_post(executor_app, body, headers)

    async def decoded(body: bytes) -> bytes:
        splice["on"] = False
        try:
            return await asgi_post(compiled_app, body, headers)
        finally:
            splice["on"] = True

    async def spliced(body: bytes) -> bytes:
        return await asgi_post(compiled_app, body, headers)

    steps: list[tuple[str, Callable[[bytes], Awaitable[bytes]]]] = [
        ("executor", executor),
        ("compiled, decoded + re-encoded", decoded),
        ("compiled, text spliced", spliced),
    ]
    print(f"\n== CPU ms per request, in-process, one at a time, mean of {n} (interleaved)")
    print(f"   {'query':<28} " + " ".join(f"{name:>32}" for name, _ in steps))
    async with (
        executor_app.router.lifespan_context(executor_app),
        compiled_app.router.lifespan_context(compiled_app),
    ):
        for query_key in queries:
            query = QUERIES[query_key]
            rng = random.Random(5)
            bodies = [
                json.dumps({"query": query.ours, "variables": query.variables(rng, ids)[0]})
                for _ in range(n + 50)
            ]
            spent: list[list[float]] = [[] for _ in steps]
            for i, body in enumerate(bodies):
                answers = []
                for (_, step), out in zip(steps, spent, strict=True):
                    started = time.process_time()
                    answers.append(await step(body.encode()))
                    if i >= 50:
                        out.append((time.process_time() - started) * 1000)
                if i < 20:
                    assert len(set(answers)) == 1, (query_key, answers)
                    assert b'"errors"' not in answers[0], answers[0]
            means = [statistics.fmean(out) for out in spent]
            print(f"   {query.name:<28} " + " ".join(f"{m:32.3f}" for m in means))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pgdata", help="keep the embedded cluster here and reuse it")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--queries", default="titles,title,similar")
    args = parser.parse_args()

    from server.db.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="contentintel-compiled-") as scratch:
        where = Path(args.pgdata) if args.pgdata else Path(scratch)
        with EmbeddedPostgres(where, cleanup_mode="stop" if args.pgdata else "delete") as pg:
            pg.ensure_database(DATABASE)
            url, libpq = pg.sqlalchemy_url(DATABASE), pg.libpq_url(DATABASE)
            print(prepare_catalog(url))
            ids = catalog_ids(libpq)
            asyncio.run(measure(url, make_key(url), ids, args.queries.split(","), args.requests))


if __name__ == "__main__":
    main()
