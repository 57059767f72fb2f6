"""Micro-genres: the clustering pipeline's invariants, parent genres and the label grammar."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, text

from server.demo.generator import generate_catalog
from server.embeddings import pipeline
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from server.similarity.layout import layout_2d
from server.similarity.microgenres.clustering import (
    MIN_CAP,
    ClusterSummary,
    Sizes,
    assign_parents,
    cluster_catalog,
)
from server.similarity.microgenres.labels import (
    Descriptor,
    LabelPlan,
    TitleFacts,
    label_clusters,
    plan_label,
    unique_labels,
)
from tests.helpers import create_titles, title_record

SEED = 7


@pytest.fixture(autouse=True)
def _no_projection_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Embed without fitting the genre projection: it is not under test here, and its fit
    takes most of the time of a small catalog's embedding."""
    monkeypatch.setattr(pipeline, "MIN_TITLES", 10**9)


def _demo(conn: Connection, n: int = 300) -> None:
    create_titles(conn, *generate_catalog(n_titles=n, seed=SEED))
    embed_catalog(conn, HashingEmbedder())


def _rows(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)))


def test_cluster_catalog_invariants_and_rerun_replaces(conn: Connection) -> None:
    _demo(conn)
    summary = cluster_catalog(conn, seed=SEED, with_layout=False)
    titles = conn.execute(text("SELECT count(*) FROM title_embeddings")).scalar_one()
    assert summary.titles == titles == 300
    assert summary.unembedded == 0
    assert summary.cap == max(math.floor(0.05 * 300), MIN_CAP) == 15

    # Every embedded title has exactly one primary micro-genre; a secondary is another one.
    primaries = Counter(
        r.title_id for r in _rows(conn, "SELECT title_id FROM title_micro_genres WHERE is_primary")
    )
    embedded = {r.title_id for r in _rows(conn, "SELECT title_id FROM title_embeddings")}
    assert set(primaries) == embedded
    assert set(primaries.values()) == {1}
    pairs = _rows(
        conn,
        "SELECT s.title_id FROM title_micro_genres s JOIN title_micro_genres p "
        "ON p.title_id = s.title_id AND p.is_primary AND NOT s.is_primary "
        "WHERE p.micro_genre_id = s.micro_genre_id",
    )
    assert pairs == []
    assert (
        summary.secondary
        == conn.execute(
            text("SELECT count(*) FROM title_micro_genres WHERE NOT is_primary")
        ).scalar_one()
    )

    # Sizes are the primary memberships; none above the cap; labels unique and non-empty.
    genres = _rows(
        conn,
        "SELECT g.id, g.label, g.size, g.parent_genre, g.top_tags, "
        "(SELECT count(*) FROM title_micro_genres m WHERE m.micro_genre_id = g.id "
        " AND m.is_primary) AS members FROM micro_genres g",
    )
    assert len(genres) == summary.micro_genres >= 300 // 15
    assert all(g.size == g.members > 0 for g in genres)
    assert max(g.size for g in genres) == summary.largest_size <= summary.cap
    labels = [g.label for g in genres]
    assert all(label and label == label.strip() for label in labels)
    assert len({label.casefold() for label in labels}) == len(labels)
    assert not any(label.endswith((" II", " III")) for label in labels), labels
    for g in genres:
        assert g.top_tags, g.label
        assert set(g.top_tags[0]) == {"kind", "name", "lift", "share", "titles"}
        assert all(t["titles"] <= g.size and 0 < t["share"] <= 1 for t in g.top_tags)

    # The parent genre is a genre most of the micro-genre's titles have.
    with_parent = _rows(
        conn,
        "SELECT g.id, g.size, count(*) FILTER (WHERE tg.name = g.parent_genre) AS carrying "
        "FROM micro_genres g JOIN title_micro_genres m ON m.micro_genre_id = g.id "
        "AND m.is_primary JOIN title_tags tt ON tt.title_id = m.title_id "
        "JOIN tags tg ON tg.id = tt.tag_id AND tg.kind = 'GENRE' GROUP BY g.id, g.size",
    )
    assert sum(r.carrying >= r.size / 2 for r in with_parent) >= 0.9 * len(with_parent)

    # Re-running replaces everything (same seed, same result) in the same transaction.
    old_ids = {g.id for g in genres}
    again = cluster_catalog(conn, seed=SEED, with_layout=False)
    rows = _rows(conn, "SELECT id, label FROM micro_genres")
    assert not old_ids & {r.id for r in rows}
    assert sorted(r.label for r in rows) == sorted(labels)
    assert again.micro_genres == summary.micro_genres
    assert (
        conn.execute(text("SELECT count(*) FROM title_micro_genres WHERE is_primary")).scalar()
        == 300
    )


def test_titles_without_embeddings_are_left_out(conn: Connection) -> None:
    _demo(conn, 40)
    create_titles(conn, title_record(external_id="late-arrival"))
    summary = cluster_catalog(conn, seed=SEED)
    assert (summary.titles, summary.unembedded) == (40, 1)
    missing = _rows(
        conn,
        "SELECT t.id FROM titles t LEFT JOIN title_micro_genres m ON m.title_id = t.id "
        "WHERE m.title_id IS NULL",
    )
    assert len(missing) == 1
    positions = conn.execute(text("SELECT count(*) FROM title_positions")).scalar_one()
    assert positions == 40


def test_empty_catalog_clusters_to_nothing(conn: Connection) -> None:
    summary = cluster_catalog(conn)
    assert summary == ClusterSummary(seconds=summary.seconds)
    assert conn.execute(text("SELECT count(*) FROM micro_genres")).scalar_one() == 0


def test_sizes_for_catalog() -> None:
    big = Sizes.for_catalog(8807)
    assert (big.cap, big.target, big.minimum) == (440, 40, 8)
    small = Sizes.for_catalog(100)
    assert small.cap == MIN_CAP
    assert small.minimum <= small.target < small.cap


def test_parent_is_the_most_specific_genre_not_a_facet() -> None:
    genres = [
        ["Dramas", "International Movies", "Romantic Movies"],
        ["Dramas", "International Movies"],
        ["Dramas", "Romantic Movies"],
        ["International Movies"],
        ["International Movies"],
        [],
    ]
    parents = assign_parents(genres, min_group=1)
    # Romantic Movies (2 titles) is rarer than Dramas (3); International Movies is a facet.
    assert parents == [
        "Romantic Movies",
        "Dramas",
        "Romantic Movies",
        "International Movies",
        "International Movies",
        None,
    ]
    # A parent group below the minimum hands its titles to their next candidate.
    assert assign_parents(genres, min_group=3)[:3] == ["Dramas", "Dramas", "Dramas"]


# --- the label grammar on hand-made clusters -----------------------------------------------

_COUNTRIES = ("US", "GB", "FR", "IN", "MX", "JP", "DE", "CA", "AU", "BR")


def _background(n: int) -> list[TitleFacts]:
    """Assorted titles the hand-made clusters over-index against."""
    kinds = ("MOVIE", "SHOW")
    genres = (
        ("Dramas",),
        ("Comedies",),
        ("TV Dramas",),
        ("Documentaries",),
        ("Action & Adventure",),
    )
    synopses = (
        "A family gathers for a reunion that goes sideways.",
        "Two strangers meet on a train and talk about their lives.",
        "An aging musician looks back on a long career.",
        "A chef opens a restaurant in a new city.",
    )
    return [
        TitleFacts(
            title_id=1000 + i,
            kind=kinds[i % 2],
            synopsis=synopses[i % len(synopses)],
            release_year=1990 + i % 30,
            # Half American, like the real catalog's third: "American" is not distinctive.
            countries=("US",) if i % 2 else (_COUNTRIES[i % len(_COUNTRIES)],),
            genres=genres[i % len(genres)],
        )
        for i in range(n)
    ]


def _cluster(n: int, start: int, **facts: Any) -> list[TitleFacts]:
    return [TitleFacts(title_id=start + i, **facts) for i in range(n)]


def test_label_grammar_on_hand_made_clusters() -> None:
    korean_crime = _cluster(
        12,
        0,
        kind="SHOW",
        synopsis="A prosecutor chases a powerful man through Seoul.",
        countries=("KR",),
        genres=("Crime TV Shows", "International TV Shows", "TV Dramas"),
    )
    coming_of_age = _cluster(
        12,
        100,
        kind="MOVIE",
        synopsis="Summer before college, friends make plans.",
        countries=("US",),
        genres=("Comedies",),
        tags=(("THEME", "coming-of-age"), ("MOOD", "quirky")),
    )
    stand_up = [
        TitleFacts(
            title_id=200 + i,
            kind="MOVIE",
            synopsis="The comedian riffs on modern life in this stand-up special.",
            countries=(_COUNTRIES[i % 5],),
            genres=("Stand-Up Comedy",),
        )
        for i in range(12)
    ]
    heists = [
        TitleFacts(
            title_id=300 + i,
            kind="MOVIE",
            synopsis="A crew of thieves plans a daring heist on a casino vault.",
            countries=(("US", "GB", "FR", "DE")[i % 4],),
            genres=("Thrillers",),
        )
        for i in range(12)
    ]
    background = _background(80)
    titles = korean_crime + coming_of_age + stand_up + heists + background
    assignment = [0] * 12 + [1] * 12 + [2] * 12 + [3] * 12 + [4] * 80
    parents = ["Crime TV Shows", "Comedies", "Stand-Up Comedy", "Thrillers", "Dramas"]
    named = label_clusters(titles, assignment, parents)

    assert named[0].label == "Korean Crime TV Dramas"
    assert named[1].label == "Coming-of-age Comedies"
    assert named[2].label == "Stand-up Comedy Specials"
    assert named[3].label == "Heist Thrillers"
    assert [n.parent_genre for n in named] == parents
    # The descriptors named in the label come first in top_tags, with lift, share and counts.
    korean = {(t["kind"], t["name"]): t for t in named[0].top_tags}
    assert korean[("ORIGIN", "Korean")]["titles"] == 12
    assert korean[("ORIGIN", "Korean")]["share"] == 1.0
    assert korean[("ORIGIN", "Korean")]["lift"] == pytest.approx(len(titles) / 12, rel=1e-3)
    assert named[1].top_tags[0] == {
        "kind": "THEME",
        "name": "Coming-of-age",
        "lift": pytest.approx(len(titles) / 12, rel=1e-3),
        "share": 1.0,
        "titles": 12,
    }
    assert ("KEYWORD", "Heist") in {(t["kind"], t["name"]) for t in named[3].top_tags}


def test_colliding_labels_take_a_further_descriptor_not_a_number() -> None:
    base = {"kind": "MOVIE", "genres": ("Thrillers",)}
    heist_uk = _cluster(
        14,
        0,
        synopsis="A crew of thieves plans a daring heist in London.",
        countries=("GB",),
        release_year=1995,
        **base,
    )
    heist_spy = _cluster(
        10,
        100,
        synopsis="A crew of thieves plans a daring heist; an undercover spy is among them.",
        countries=("US",),
        release_year=2019,
        **base,
    )
    titles = heist_uk + heist_spy + _background(80)
    assignment = [0] * 14 + [1] * 10 + [2] * 80
    named = label_clusters(titles, assignment, ["Thrillers", "Thrillers", "Dramas"])
    first, second = named[0].label, named[1].label
    assert first != second
    assert first.endswith("Heist Thrillers")
    assert second.endswith("Thrillers")
    assert not second.endswith((" II", " III"))


def test_crime_told_in_many_words_names_the_group_unless_one_word_carries_it() -> None:
    # The Irishman's group: a con man, crooks, bootleggers, a hit man, a crime ring, a drug
    # smuggler; no one word in most synopses, all of them crime.
    stories = (
        "An agent hunts a cunning con man across the country.",
        "Two crooks hold up a poker game.",
        "The bootlegging brothers of a rural county become folk heroes.",
        "A hit man looks back on the secrets he kept.",
        "A detective takes down a crime ring from the inside.",
        "A cocaine smuggler rises from poverty.",
    )
    crime = [
        TitleFacts(title_id=i, kind="MOVIE", synopsis=stories[i % 6], genres=("Dramas",))
        for i in range(12)
    ]
    gangsters = [
        TitleFacts(
            title_id=100 + i,
            kind="MOVIE",
            synopsis=(
                ["A mob enforcer turns on his boss."] * 4
                + ["A hit man takes one last job."] * 3
                + ["A con man meets his match."] * 3
                + ["A cocaine smuggler runs out of road."] * 2
            )[i],
            genres=("Thrillers",),
        )
        for i in range(12)
    ]
    titles = crime + gangsters + _background(80)
    assignment = [0] * 12 + [1] * 12 + [2] * 80
    named = label_clusters(titles, assignment, ["Dramas", "Thrillers", "Dramas"])
    assert named[0].label == "Crime Dramas"
    evidence = {(t["kind"], t["name"]): t for t in named[0].top_tags}
    assert evidence[("KEYWORD", "Crime")]["titles"] == 12  # every synopsis, through its family
    # A third of the second group says "mob", the most of any crime word: that member is
    # the telling word, so the family, though in every synopsis, stays out of the label.
    assert "Gangster" in named[1].label
    assert "Crime" not in named[1].label


def test_unique_labels_falls_back_to_numerals() -> None:
    plans = [LabelPlan({"head": ["Dramas"]}) for _ in range(3)]
    assert unique_labels(plans, [5, 9, 7]) == ["Dramas III", "Dramas", "Dramas II"]


def test_plan_label_prefers_the_ranked_genre_as_head() -> None:
    comedies = Descriptor("GENRE", "Comedies", 9, 0.9, 3.0)
    romantic = Descriptor("GENRE", "Romantic Movies", 10, 1.0, 8.0)
    plan = plan_label("Romantic Movies", [romantic, comedies])
    assert plan.render() == "Romantic Comedies"
    crime = Descriptor("GENRE", "Crime TV Shows", 10, 1.0, 8.0)
    docs = Descriptor("GENRE", "Docuseries", 10, 1.0, 9.0)
    assert plan_label("Crime TV Shows", [crime, docs]).render() == "True Crime Docuseries"
    # A genre the grammar does not know heads with its name.
    assert plan_label("Telenovelas", []).render() == "Telenovelas"


# --- layout ------------------------------------------------------------------------------------


def test_layout_is_deterministic_bounded_and_handles_tiny_inputs() -> None:
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(c, 0.1, size=(60, 16)) for c in (0.0, 3.0, -3.0)]).astype(
        np.float32
    )
    groups = np.repeat(np.arange(3), 60)
    first = layout_2d(points, seed=1, groups=groups)
    again = layout_2d(points, seed=1, groups=groups)
    assert first.shape == (180, 2)
    assert np.array_equal(first, again)
    assert np.isfinite(first).all()
    assert np.abs(first).max() <= 1.0 + 1e-6
    # The three blobs stay apart: each point's nearest neighbour is in its own blob.
    dist = ((first[:, None, :] - first[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(dist, np.inf)
    assert (groups[dist.argmin(axis=1)] == groups).mean() > 0.95
    # Above max_fit, the rest is placed from fitted neighbours.
    sampled = layout_2d(points, seed=1, max_fit=90)
    assert sampled.shape == (180, 2)
    assert np.isfinite(sampled).all()
    for n in (0, 1, 2, 3):
        assert layout_2d(points[:n], seed=1).shape == (n, 2)
