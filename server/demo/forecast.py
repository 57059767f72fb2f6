"""Synthetic weekly Top 10 charts for the demo world, and a trained forecast model on them.

The audiences work may bring its own synthetic charts; until then the demo gets these. Every
week a few catalog titles launch; a title's pull in a region is its quality times the region's
affinity for it (home country, shared main language, same region group, and the region's own
taste for each genre) and fades with age; each region's Top 10 per kind is the ten strongest
titles that week, plus noise. Deterministic: the stream comes from ``sub_rng(seed, "charts")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import Connection, Engine, text

from server.kit.rng import sub_rng
from server.strategy.pipeline import rescore

FIRST_WEEK = date(2021, 7, 4)
"""A Sunday, like Netflix's chart weeks."""
TEST_SHARE = 1 / 3
"""The demo's backtest cutoff leaves about this share of the charting titles after it."""


@dataclass
class ChartsSummary:
    rows: int
    titles: int
    regions: int
    weeks: int


def seed_demo_charts(
    conn: Connection,
    *,
    seed: int,
    weeks: int = 52,
    launches_per_week: int = 5,
    regions: int | None = None,
) -> ChartsSummary | None:
    """Generate country charts when there are none (None when charts exist or no titles)."""
    if conn.execute(text("SELECT EXISTS (SELECT 1 FROM top10_country_weeks)")).scalar():
        return None
    rng = np.random.default_rng(sub_rng(seed, "charts").getrandbits(63))
    region_rows = conn.execute(
        text("SELECT code, region_group, languages FROM regions ORDER BY code")
    ).all()
    if regions is not None:
        region_rows = region_rows[:regions]
    titles = conn.execute(
        text(
            """
            SELECT t.id, t.name, t.kind::text AS kind, t.original_language,
                   coalesce((SELECT array_agg(tc.country_code ORDER BY tc.position)
                             FROM title_countries tc WHERE tc.title_id = t.id), '{}') AS origins,
                   coalesce((SELECT array_agg(tg.name ORDER BY tg.name) FROM title_tags tt
                             JOIN tags tg ON tg.id = tt.tag_id
                             WHERE tt.title_id = t.id AND tg.kind = 'GENRE'), '{}') AS genres
            FROM titles t ORDER BY t.id
            """
        )
    ).all()
    if not titles or not region_rows:
        return None
    codes = [str(r.code) for r in region_rows]
    group = {str(r.code): str(r.region_group) for r in region_rows}
    language = {str(r.code): str(r.languages[0]) for r in region_rows}
    genres = sorted({g for t in titles for g in t.genres})
    taste = rng.normal(0.0, 0.6, size=(len(codes), len(genres)))
    genre_index = {g: i for i, g in enumerate(genres)}

    order = rng.permutation(len(titles))
    by_kind: dict[str, list[int]] = {"MOVIE": [], "SHOW": []}
    for i in order:
        by_kind[str(titles[i].kind)].append(int(i))
    launches: list[tuple[int, int]] = []  # (title row, launch week)
    for week in range(weeks):
        for kind in ("MOVIE", "SHOW"):
            pool = by_kind[kind]
            for _ in range(launches_per_week):
                if pool:
                    launches.append((pool.pop(), week))
    n = len(launches)
    quality = rng.lognormal(0.0, 0.7, size=n)
    affinity = np.zeros((n, len(codes)))
    for j, (row, _) in enumerate(launches):
        t = titles[row]
        origins = [str(o) for o in t.origins]
        home_groups = {group[o] for o in origins if o in group}
        langs = {t.original_language} if t.original_language else set()
        langs |= {language[o] for o in origins if o in language}
        g_idx = [genre_index[g] for g in t.genres if g in genre_index]
        for r, code in enumerate(codes):
            a = 0.0
            if code in origins:
                a += 2.0
            if language[code] in langs:
                a += 0.8
            if group[code] in home_groups:
                a += 0.5
            if g_idx:
                a += float(taste[r, g_idx].mean())
            affinity[j, r] = a
    launch_week = np.array([w for _, w in launches])
    kinds = np.array([str(titles[row].kind) for row, _ in launches])
    rows_out: list[tuple[str, date, str, int, str, int]] = []
    for week in range(weeks):
        age = week - launch_week
        live = (age >= 0) & (age < 8)
        fade = np.where(live, np.exp(-0.35 * np.clip(age, 0, None)), 0.0)
        day = FIRST_WEEK + timedelta(weeks=week)
        for kind in ("MOVIE", "SHOW"):
            candidates = np.flatnonzero(live & (kinds == kind))
            if not len(candidates):
                continue
            noise = rng.normal(0.0, 0.5, size=(len(candidates), len(codes)))
            pull = (
                np.log(quality[candidates])[:, None]
                + affinity[candidates]
                + np.log(fade[candidates] + 1e-9)[:, None]
                + noise
            )
            for r, code in enumerate(codes):
                ranked = candidates[np.argsort(-pull[:, r], kind="stable")][:10]
                for rank, j in enumerate(ranked, start=1):
                    t = titles[launches[j][0]]
                    rows_out.append((code, day, kind, rank, str(t.name), int(t.id)))
    raw = conn.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY top10_country_weeks (region_code, week, kind, rank, show_title, title_id) "
            "FROM STDIN"
        ) as copy,
    ):
        for item in rows_out:
            copy.write_row(item)
    rescore(conn)
    charted = len({r[5] for r in rows_out})
    return ChartsSummary(len(rows_out), charted, len(codes), weeks)


def demo_cutoff(conn: Connection) -> date:
    """The first chart week from which about ``TEST_SHARE`` of the charting titles first chart."""
    firsts = (
        conn.execute(
            text(
                "SELECT min(week) FROM top10_country_weeks WHERE title_id IS NOT NULL "
                "GROUP BY title_id ORDER BY 1"
            )
        )
        .scalars()
        .all()
    )
    if not firsts:
        raise ValueError("no charts to backtest on")
    cutoff: date = firsts[min(len(firsts) - 1, int(len(firsts) * (1 - TEST_SHARE)))]
    return cutoff


def prepare_demo_forecasts(engine: Engine, *, seed: int, embedder: str) -> list[str]:
    """Synthetic charts when there are none, then (when the charts are new or no current model
    uses ``embedder``) a backtest at ``demo_cutoff`` and a trained current model. Returns what
    to print. The charts are usually the demo world's (server/demo/audiences, seeded with the
    catalog); these here fill in for a catalog that has none."""
    from server.forecast.model import Params
    from server.forecast.training import run_backtest, train_model

    lines = []
    with engine.begin() as conn:
        charts = seed_demo_charts(conn, seed=seed)
    if charts is not None:
        lines.append(
            f"demo charts: {charts.rows:,} Top 10 rows, {charts.titles:,} titles, "
            f"{charts.regions} regions, {charts.weeks} weeks"
        )
    with engine.begin() as conn:
        current = conn.execute(
            text("SELECT embedder FROM forecast_models WHERE is_current")
        ).scalar_one_or_none()
        has_charts = conn.execute(text("SELECT EXISTS (SELECT 1 FROM regional_scores)")).scalar()
    if has_charts and (charts is not None or current != embedder):
        # Default parameters (no tuning grid) keep the demo's start-up short.
        try:
            with engine.begin() as conn:
                cutoff = demo_cutoff(conn)
                bt = run_backtest(conn, embedder, cutoff, params=Params())
            lift = f"{bt.lift:+.1%}" if bt.lift is not None else "n/a"
            lines.append(
                f"backtest at {cutoff}: NDCG@10 {bt.model.ndcg10:.3f}, {lift} vs the best baseline"
            )
        except ValueError as exc:  # a small demo catalog may launch nothing after the cutoff
            lines.append(f"backtest skipped: {exc}")
        with engine.begin() as conn:
            model = train_model(conn, embedder, params=Params())
        lines.append(f"forecast model v{model.version}: {model.training_titles:,} titles")
    return lines
