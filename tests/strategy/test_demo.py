"""The demo world's planted gap: Nordic shows pulled in Brazil, a small micro-genre of the
catalog, come out first in Brazil's content gaps."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.demo.audiences import PLANTED_ORIGINS, PLANTED_REGION
from server.demo.seed import seed_demo_catalog
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from server.similarity.microgenres.clustering import cluster_catalog
from server.strategy.pipeline import recompute_strategy
from server.strategy.service import Market, compute_gaps


def test_planted_gap_ranks_first_in_its_region(conn: Connection) -> None:
    assert seed_demo_catalog(conn, n_titles=1200, seed=20261128) is not None
    embed_catalog(conn, HashingEmbedder())
    cluster_catalog(conn, with_layout=False)
    recompute_strategy(conn)
    stored = conn.execute(
        text(
            "SELECT micro_genre_id FROM content_gaps WHERE region_code = :r "
            "AND level = 'MICRO_GENRE' AND membership = 'HARD' AND rank = 1"
        ),
        {"r": PLANTED_REGION},
    ).scalar_one()
    first = compute_gaps(conn, Market(region=PLANTED_REGION)).gaps[0]
    assert first.micro_genre_id == stored
    # Its titles are the planted Nordic shows.
    nordic = conn.execute(
        text(
            "SELECT avg((tc.country_code = ANY(:o) AND t.kind = 'SHOW')::int) "
            "FROM title_micro_genres m JOIN titles t ON t.id = m.title_id "
            "JOIN title_countries tc ON tc.title_id = t.id AND tc.position = 0 "
            "WHERE m.is_primary AND m.micro_genre_id = :g"
        ),
        {"o": list(PLANTED_ORIGINS), "g": first.micro_genre_id},
    ).scalar_one()
    assert nordic >= 0.5
    assert first.supply_share < 0.05
    assert first.demand_share > 5 * first.supply_share
    # Elsewhere (the US) that micro-genre is no gap at all.
    us = {g.micro_genre_id: g for g in compute_gaps(conn, Market(region="US")).gaps}
    assert us[first.micro_genre_id].rank > 20
