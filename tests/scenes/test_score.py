"""The engagement score, the per-title summaries and the tag-lift intervals."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.scenes import service
from server.scenes.score import score_of
from server.scenes.service import Curve, SceneRow, derive_curve, lift_interval, summarise
from tests.helpers import acreate_titles, create_titles, title_record
from tests.scenes.helpers import engagement, load_engagement, load_scenes, scene


def test_sql_score_matches_the_documented_formula(conn: Connection) -> None:
    create_titles(conn, title_record(external_id="sc1", duration_minutes=60))
    metrics = [(0.95, 0.05, 0.01, 0.01), (0.6, 0.01, 0.3, 0.05), (0.9, 0.12, 0.02, 0.005)]
    load_scenes(conn, *(scene("sc1", i + 1, i * 100, i * 100 + 100) for i in range(3)))
    load_engagement(
        conn,
        *(
            engagement("sc1", i + 1, watched_fraction=w, rewatch_rate=r, skip_rate=s, exit_rate=x)
            for i, (w, r, s, x) in enumerate(metrics)
        ),
    )
    stored = (
        conn.execute(
            text(
                "SELECT e.score FROM scene_engagement e JOIN scenes s ON s.id = e.scene_id "
                "ORDER BY s.ordinal"
            )
        )
        .scalars()
        .all()
    )
    assert stored == pytest.approx(score_of(metrics), abs=1e-4)
    assert stored[2] > stored[0] > stored[1]


def test_scores_are_normalised_within_each_title() -> None:
    # The same relative pattern in a title with tiny and one with large differences scores alike.
    calm = [(0.90, 0.02, 0.02, 0.010), (0.92, 0.03, 0.02, 0.008), (0.88, 0.01, 0.03, 0.012)]
    loud = [(0.60, 0.02, 0.20, 0.10), (0.80, 0.12, 0.20, 0.02), (0.40, -0.08, 0.30, 0.18)]
    loud = [(w, max(r, 0.0), s, x) for w, r, s, x in loud]
    assert [round(v, 6) for v in score_of(calm)][1] > 0
    assert score_of(loud)[1] > 0
    assert sum(score_of(calm)) == pytest.approx(0, abs=1e-9)
    # Differences under the 0.01 floor do not blow up: at most a few units.
    flat = [(0.900, 0.010, 0.010, 0.0100), (0.901, 0.010, 0.010, 0.0101)]
    assert max(abs(v) for v in score_of(flat)) < 0.1


def row(ordinal: int, start: float, end: float, **kw: object) -> SceneRow:
    values: dict[str, object] = {
        "id": ordinal,
        "title_id": 1,
        "episode": None,
        "ordinal": ordinal,
        "start": start,
        "end": end,
        "description": None,
        "characters": [],
        "tags": [],
        "people": [],
        "region": None,
        "plays": 100,
        "watched_fraction": 0.9,
        "rewatch_rate": 0.01,
        "skip_rate": 0.01,
        "exit_rate": 0.01,
        "score": 0.0,
    }
    values.update(kw)
    return SceneRow(**values)  # type: ignore[arg-type]


def test_summary_from_a_curve() -> None:
    # 1000 s at 10 s resolution: 20% gone by 50 s, then slow; a cliff between 600 and 700 s.
    shares = []
    for i in range(101):
        t = i * 10
        share = 1.0 - 0.2 * min(t, 50) / 50 - 0.0001 * t - (0.15 if t >= 700 else 0.0)
        if 600 < t < 700:
            share -= 0.15 * (t - 600) / 100
        shares.append(share)
    curve = Curve(1, None, None, 10, shares, False)
    scenes = [
        row(1, 0, 300),
        row(2, 300, 600, rewatch_rate=0.2),
        row(3, 600, 700, tags=["dialogue"]),
        row(4, 700, 900),
        row(5, 900, 1000, tags=["end-credits"]),
    ]
    summary = summarise(curve, scenes)
    assert summary is not None
    assert summary.hook_seconds == 50
    assert summary.hook_strength == pytest.approx(0.8 - 0.005, abs=1e-6)
    assert summary.biggest_drop_off is not None
    assert summary.biggest_drop_off.scene.ordinal == 3
    assert summary.biggest_drop_off.drop == pytest.approx(0.16, abs=1e-6)
    assert summary.most_rewatched is not None
    assert summary.most_rewatched.ordinal == 2
    assert summarise(None, []) is None


def test_end_credits_and_the_hook_window_are_not_a_drop_off() -> None:
    curve = Curve(
        1, None, None, 10, [1.0, 0.5] + [0.5 - 0.001 * i for i in range(88)] + [0.1] * 11, False
    )
    summary = summarise(
        curve, [row(1, 0, 40), row(2, 40, 890), row(3, 890, 1000, tags=["end-credits"])]
    )
    assert summary is not None
    assert summary.biggest_drop_off is not None
    assert summary.biggest_drop_off.scene.ordinal == 2


def test_a_curve_derived_from_exit_rates() -> None:
    curve = derive_curve(1, None, None, [(0, 100, 0.5), (100, 200, 0.5)])
    assert curve.derived
    assert curve.share_at(0) == 1.0
    assert curve.share_at(100) == pytest.approx(0.5)
    assert curve.share_at(200) == pytest.approx(0.25)
    assert curve.resampled(50) == [(0, 1.0), (50, 0.75), (100, 0.5), (150, 0.375), (200, 0.25)]


def test_small_samples_get_wider_intervals() -> None:
    rng = random.Random(7)

    def interval(n_titles: int, per_title: int) -> tuple[float, float, float]:
        titles = [[rng.gauss(0.3, 1.0) for _ in range(per_title)] for _ in range(n_titles)]
        values = [v for t in titles for v in t]
        mean = sum(values) / len(values)
        ss = sum((sum(t) - len(t) * mean) ** 2 for t in titles)
        low, high = lift_interval(len(values), n_titles, mean, ss)
        return mean, low, high

    _, small_low, small_high = interval(3, 4)  # 12 scenes
    _, big_low, big_high = interval(300, 10)  # 3,000 scenes
    assert small_high - small_low > 5 * (big_high - big_low)
    # The same spread spread over fewer titles is less certain, too (scenes of a title are
    # not independent evidence).
    mean = 0.3
    few = lift_interval(100, 2, mean, 2 * 50**2 * 0.5)
    many = lift_interval(100, 50, mean, 50 * 2**2 * 0.5)
    assert few[1] - few[0] > many[1] - many[0]


async def test_tag_lift_ranks_by_the_lower_bound(aconn: AsyncConnection) -> None:
    """A rare tag with a big but noisy lift does not outrank a common tag with a solid one."""
    rng = random.Random(3)
    await acreate_titles(
        aconn, *(title_record(external_id=f"lt{i}", duration_minutes=100) for i in range(12))
    )
    scenes_, rows = [], []
    for t in range(12):
        for k in range(1, 41):
            if k % 2 == 0:
                tags, quality = ["solid"], 0.02
            elif k == 1 and t < 3:
                tags, quality = ["rare"], rng.choice((0.2, -0.15))
            else:
                tags, quality = ["plain"], 0.0
            scenes_.append(scene(f"lt{t}", k, (k - 1) * 100, k * 100, tags=tags))
            rows.append(
                engagement(
                    f"lt{t}",
                    k,
                    watched_fraction=min(1.0, 0.8 + quality + rng.gauss(0, 0.01)),
                    exit_rate=0.02,
                    skip_rate=0.02,
                    rewatch_rate=0.02,
                )
            )
    await aconn.run_sync(lambda c: load_scenes(c, *scenes_, use_copy=False))
    await aconn.run_sync(lambda c: load_engagement(c, *rows, use_copy=False))
    session = AsyncSession(bind=aconn, join_transaction_mode="create_savepoint")
    lifts = await service.scene_tag_lift(session, 10, 1, None)
    by_tag = {lift.tag: lift for lift in lifts}
    assert by_tag["solid"].scenes == 240
    assert by_tag["solid"].titles == 12
    assert by_tag["rare"].scenes == 3
    assert by_tag["rare"].titles == 3
    rare, solid = by_tag["rare"], by_tag["solid"]
    assert rare.high - rare.low > 4 * (solid.high - solid.low)
    assert solid.low > 0
    assert next(lift.tag for lift in lifts) == "solid"
    # minScenes leaves rare tags out.
    assert "rare" not in {lift.tag for lift in await service.scene_tag_lift(session, 10, 30, None)}
    await session.close()
