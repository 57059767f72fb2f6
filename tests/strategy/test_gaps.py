"""The gap arithmetic (no database): shares, intervals, ranking, momentum, neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from server.strategy.gaps import compute_stats, opportunity, percentiles, rank_order


def one_hot(labels: list[int], groups: int) -> np.ndarray:
    out = np.zeros((len(labels), groups))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def test_percentiles_match_numpy() -> None:
    values = np.random.default_rng(3).normal(size=(250, 40))
    low, high = percentiles(values, (5, 95))
    expected = np.percentile(values, [5, 95], axis=0)
    assert np.allclose(low, expected[0])
    assert np.allclose(high, expected[1])


def test_opportunity_is_smoothed_towards_one() -> None:
    demand = np.array([0.5, 0.0, 0.5])
    supply = np.array([0.1, 0.1, 0.8])
    o = opportunity(demand, supply, 1.0)
    assert o[0] == pytest.approx((0.5 + 1 / 3) / (0.1 + 1 / 3))
    assert o[1] < 1 < o[0]
    assert o[2] < o[0]


def test_a_group_carried_by_one_title_ranks_below_a_broad_one() -> None:
    """Groups 0 and 1 have the same demand share and supply; group 0 owes it to one title,
    group 1 to four. Group 2 never charts."""
    weeks = 10
    points = np.vstack(
        [np.full(weeks, 8.0)]  # group 0: one title, 8 points a week
        + [np.full(weeks, 2.0)] * 4  # group 1: four titles, 2 points each
        + [np.full(weeks, 4.0)] * 2  # group 3: two titles
    )
    members = one_hot([0, 1, 1, 1, 1, 3, 3], 4)
    supply = np.array([0.05, 0.05, 0.2, 0.7])
    stats = compute_stats(points, members, supply, list(range(7)), smoothing=1.0, seed=1)
    assert stats.demand.sum() == pytest.approx(1)
    assert stats.demand[0] == pytest.approx(stats.demand[1])
    assert stats.opportunity[0] == pytest.approx(stats.opportunity[1])
    assert np.all(stats.low <= stats.opportunity)
    assert np.all(stats.opportunity <= stats.high)
    assert stats.low[1] > stats.low[0]
    assert stats.low[2] == 0  # no observed demand: no credible excess
    order = rank_order(stats.low, stats.opportunity, ["a", "b", "c", "d"])
    assert order[0] == 1
    assert list(stats.charting_titles) == [1, 4, 0, 2]
    assert stats.top_titles[1][0][0] in {1, 2, 3, 4}
    assert stats.top_titles[2] == []


def test_momentum_of_a_rising_group() -> None:
    weeks = 12
    rising = np.linspace(1, 10, weeks)
    points = np.vstack([rising, rising + 1, 11 - rising, np.full(weeks, 5.0)])
    members = one_hot([0, 0, 1, 1], 2)
    stats = compute_stats(points, members, np.array([0.5, 0.5]), [1, 2, 3, 4], seed=2)
    assert stats.slope[0] > 0 > stats.slope[1]
    assert stats.slope[0] == pytest.approx(-stats.slope[1])
    assert stats.slope_low[0] > 0  # rising: the interval is above 0
    assert stats.slope_high[1] < 0


def test_neighbours_pull_the_opportunity_and_share_the_title_weights() -> None:
    """The market charts group 0 only (titles 1, 2); its neighbours chart group 1 (titles
    3..8, none of them charting here)."""
    points = np.vstack([np.full(6, 10.0), np.full(6, 9.0)] + [np.zeros(6)] * 6)
    members = one_hot([0, 0, 1, 1, 1, 1, 1, 1], 2)
    supply = np.array([0.5, 0.5])
    ids = list(range(1, 9))
    own = compute_stats(points, members, supply, ids, smoothing=1.0)
    anchor = np.array([0.0, 0.0] + [1 / 6] * 6)
    mixed = compute_stats(points, members, supply, ids, smoothing=1.0, anchor=anchor, shrink=0.5)
    assert np.allclose(mixed.demand, own.demand)  # the reported share stays the market's
    assert np.allclose(mixed.neighbour_demand, [0.0, 1.0])
    assert mixed.opportunity[1] > own.opportunity[1]
    assert mixed.opportunity[0] < own.opportunity[0]
    assert mixed.low[1] > 0  # six titles carry it there: credible even with none here
    # Two titles carrying it there: the replicates that drop both leave it at 0.
    few = compute_stats(
        points[:4],
        members[:4],
        supply,
        ids[:4],
        smoothing=1.0,
        anchor=anchor[:4] * 3,
        shrink=0.5,
    )
    assert few.low[1] < mixed.low[1]
