"""Regional viewing ingest on the real database: matching rules, idempotence, scores."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from server.audiences.ingest import (
    ViewingIngestSummary,
    ingest_viewing_bytes,
    ingest_viewing_file,
    rematch_source,
)
from server.audiences.matching import match_names
from server.audiences.scores import compute_global_scores, compute_regional_scores
from server.ingest.summary import StrictModeError
from tests.audiences.charts import country_tsv, global_tsv, viewing_csv
from tests.helpers import create_titles, title_record


def ids_by_name(conn: Connection) -> dict[str, int]:
    return {r.name: r.id for r in conn.execute(text("SELECT id, name FROM titles"))}


def names(conn: Connection, source: str = "top10-countries") -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        text("SELECT * FROM chart_names WHERE source = :s"), {"s": source}
    ).mappings()
    return {r["show_title"]: dict(r) for r in rows}


def ingest(
    conn: Connection, data: str, fmt: str = "top10-countries", **kw: Any
) -> ViewingIngestSummary:
    return ingest_viewing_bytes(conn, data, fmt, **kw)  # type: ignore[arg-type]


@pytest.fixture
def catalog(conn: Connection) -> dict[str, int]:
    create_titles(
        conn,
        title_record(
            external_id="a1", name="Squid Game", kind="SHOW", seasons=1, duration_minutes=None
        ),
        title_record(external_id="a2", name="Pokémon: The Movie — Secrets!", kind="MOVIE"),
        title_record(external_id="a3", name="Spider-Man 3", kind="MOVIE"),
        title_record(
            external_id="a4",
            name="Beauty and the Beast",
            kind="SHOW",
            seasons=1,
            duration_minutes=None,
        ),
        title_record(external_id="a5", name="Rebecca", kind="MOVIE", release_year=1940),
        title_record(external_id="a6", name="Rebecca", kind="MOVIE", release_year=2020),
        title_record(external_id="a7", name="The Extraordinary Journey of the Fakir"),
        title_record(external_id="a8", name="Kung Fu Panda"),
        title_record(
            external_id="a9", name="S.W.A.T.", kind="SHOW", seasons=1, duration_minutes=None
        ),
        title_record(name="Start-Up", kind="SHOW", seasons=1, duration_minutes=None),
        title_record(name="StartUp", kind="SHOW", seasons=1, duration_minutes=None),
    )
    return ids_by_name(conn)


def test_matching_rules(conn: Connection, catalog: dict[str, int]) -> None:
    matches = {
        m.show_title: m
        for m in match_names(
            conn,
            [
                ("Squid Game", "SHOW"),  # exact
                ("Pokemon the Movie: Secrets", "MOVIE"),  # accents + punctuation
                ("Spiderman 3", "MOVIE"),  # spacing
                ("SWAT", "SHOW"),  # dotted initials
                ("Start Up", "SHOW"),  # two compact-key twins: word boundaries decide
                ("StartUp", "SHOW"),
                ("Startup", "SHOW"),  # case does not matter
                ("Beauty and the Beast", "MOVIE"),  # only a SHOW of that name
                ("Rebecca", "MOVIE"),  # two films tie
                ("The Extraordinary Journey of the Fakirs", "MOVIE"),  # typo: fuzzy
                ("Kung Fu Panda 3", "MOVIE"),  # sequel number differs
                ("Money Heist", "SHOW"),  # nothing
            ],
        )
    }
    ok = {k: (m.title_id, m.method) for k, m in matches.items() if m.title_id}
    assert ok == {
        "Squid Game": (catalog["Squid Game"], "exact"),
        "Pokemon the Movie: Secrets": (catalog["Pokémon: The Movie — Secrets!"], "exact"),
        "Spiderman 3": (catalog["Spider-Man 3"], "exact"),
        "SWAT": (catalog["S.W.A.T."], "exact"),
        "Start Up": (catalog["Start-Up"], "exact"),
        "StartUp": (catalog["StartUp"], "exact"),
        "Startup": (catalog["StartUp"], "exact"),
        "The Extraordinary Journey of the Fakirs": (
            catalog["The Extraordinary Journey of the Fakir"],
            "fuzzy",
        ),
    }
    assert matches["The Extraordinary Journey of the Fakirs"].similarity == pytest.approx(
        0.92, abs=0.01
    )
    reasons = {k: m.reason for k, m in matches.items() if not m.title_id}
    assert reasons == {
        "Beauty and the Beast": "kind_mismatch",
        "Rebecca": "ambiguous",
        "Kung Fu Panda 3": "number_mismatch",
        "Money Heist": "no_candidate",
    }
    assert {c.title_id for c in matches["Rebecca"].candidates} == {
        r.id for r in conn.execute(text("SELECT id FROM titles WHERE name = 'Rebecca'"))
    }
    assert matches["Rebecca"].status == "ambiguous"
    assert matches["Money Heist"].status == "unmatched"


def test_fuzzy_tie_is_ambiguous(conn: Connection) -> None:
    create_titles(
        conn,
        title_record(name="The Chestnut Murderer", release_year=2001),
        title_record(name="The Chestnut Murderes", release_year=2002),
    )
    [m] = match_names(conn, [("The Chestnut Murdere", "MOVIE")])
    assert m.reason == "ambiguous"
    assert m.title_id is None
    assert len(m.candidates) == 2


CHART = [
    ("KR", "2021-09-26", "TV", 1, "Squid Game", "Squid Game: Season 1", 1),
    ("KR", "2021-10-03", "TV", 1, "Squid Game", "Squid Game: Season 1", 2),
    ("KR", "2021-10-03", "TV", 2, "Money Heist", "Money Heist: Part 5", 1),
    ("KR", "2021-10-03", "Films", 1, "Spiderman 3"),
    ("TH", "2021-10-03", "TV", 4, "Squid Game", "Squid Game: Season 1", 1),
    ("TH", "2021-10-03", "TV", 1, "Money Heist", "Money Heist: Part 5", 1),
    ("US", "2021-10-03", "Films", 10, "Rebecca"),
]


def test_ingest_counts_links_and_summary(conn: Connection, catalog: dict[str, int]) -> None:
    summary = ingest(conn, country_tsv(CHART))
    assert (summary.inserted, summary.updated, summary.unchanged) == (7, 0, 0)
    m = summary.matches
    assert (m.exact, m.fuzzy, m.ambiguous, m.unmatched) == (2, 0, 1, 1)
    assert (m.rows_matched, m.rows_total) == (4, 7)
    assert summary.unmatched_examples == [("Money Heist", "SHOW", "no_candidate")]
    linked = (
        conn.execute(
            text(
                "SELECT title_id FROM top10_country_weeks WHERE region_code = 'KR' "
                "ORDER BY week, kind, rank"
            )
        )
        .scalars()
        .all()
    )
    squid = catalog["Squid Game"]
    assert linked == [squid, catalog["Spider-Man 3"], squid, None]
    stored = names(conn)
    assert stored["Money Heist"]["reason"] == "no_candidate"
    assert stored["Money Heist"]["chart_rows"] == 2
    assert stored["Rebecca"]["reason"] == "ambiguous"
    assert len(stored["Rebecca"]["candidates"]) == 2
    assert stored["Squid Game"]["method"] == "exact"


def test_reingest_is_a_no_op_and_a_change_is_an_update(
    conn: Connection, catalog: dict[str, int]
) -> None:
    ingest(conn, country_tsv(CHART))
    before = conn.execute(text("SELECT * FROM top10_country_weeks ORDER BY 1, 2, 3, 4")).all()
    names_before = conn.execute(
        text("SELECT show_title, xmin::text, updated_at FROM chart_names ORDER BY 1")
    ).all()
    scores_before = conn.execute(
        text("SELECT title_id, region_code, xmin::text FROM regional_scores ORDER BY 1, 2")
    ).all()
    again = ingest(conn, country_tsv(CHART))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    assert not again.changed
    assert again.scores is None
    assert (
        conn.execute(
            text("SELECT title_id, region_code, xmin::text FROM regional_scores ORDER BY 1, 2")
        ).all()
        == scores_before
    )
    # Chart names are not rewritten either.
    assert (
        conn.execute(
            text("SELECT show_title, xmin::text, updated_at FROM chart_names ORDER BY 1")
        ).all()
        == names_before
    )
    assert (
        conn.execute(text("SELECT * FROM top10_country_weeks ORDER BY 1, 2, 3, 4")).all() == before
    )
    changed = [*CHART[:-1], ("US", "2021-10-03", "Films", 10, "Squid Game")]
    third = ingest(conn, country_tsv(changed))
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 6)
    assert "Rebecca" not in names(conn)


def test_catalog_growth_is_picked_up_by_a_reingest(
    conn: Connection, catalog: dict[str, int]
) -> None:
    ingest(conn, country_tsv(CHART))
    create_titles(
        conn,
        title_record(
            external_id="mh", name="Money Heist", kind="SHOW", seasons=5, duration_minutes=None
        ),
    )
    summary = ingest(conn, country_tsv(CHART))
    assert summary.matches.unmatched == 0
    heist = ids_by_name(conn)["Money Heist"]
    linked = conn.execute(
        text("SELECT count(*) FROM top10_country_weeks WHERE title_id = :t"), {"t": heist}
    ).scalar_one()
    assert linked == 2
    assert summary.relinked == 2
    assert summary.scores is not None  # recomputed: the new links count
    scored = conn.execute(
        text("SELECT count(*) FROM regional_scores WHERE title_id = :t"), {"t": heist}
    ).scalar_one()
    assert scored == 2


def test_manual_match_survives_rematch(conn: Connection, catalog: dict[str, int]) -> None:
    ingest(conn, country_tsv(CHART))
    rebecca = catalog["Rebecca"]
    conn.execute(
        text(
            "UPDATE chart_names SET title_id = :t, method = 'manual', reason = NULL "
            "WHERE source = 'top10-countries' AND show_title = 'Rebecca'"
        ),
        {"t": rebecca},
    )
    rematch_source(conn, "top10-countries")
    summary = ingest(conn, country_tsv(CHART))
    assert summary.matches.manual == 1
    assert names(conn)["Rebecca"]["method"] == "manual"
    assert (
        conn.execute(
            text("SELECT title_id FROM top10_country_weeks WHERE show_title = 'Rebecca'")
        ).scalar_one()
        == rebecca
    )


def test_bad_rows_rejected_good_rows_written_and_rejects_file(
    conn: Connection, catalog: dict[str, int], tmp_path: Path
) -> None:
    data = country_tsv([*CHART, ("US", "2021-10-03", "TV", 12, "Bad")])
    rejects = tmp_path / "rejects.csv"
    summary = ingest(conn, data, rejects_path=rejects)
    assert summary.inserted == 7
    assert summary.rejected_rows == 1
    assert [(e.line, e.field) for e in summary.rejected] == [(9, "weekly_rank")]
    assert rejects.read_text().splitlines()[1].startswith("9,,weekly_rank,")


def test_strict_mode_writes_nothing(conn: Connection, catalog: dict[str, int]) -> None:
    data = country_tsv([*CHART, ("US", "2021-10-03", "TV", 12, "Bad")])
    with pytest.raises(StrictModeError):
        ingest(conn, data, strict=True)
    assert conn.execute(text("SELECT count(*) FROM top10_country_weeks")).scalar_one() == 0
    assert conn.execute(text("SELECT count(*) FROM chart_names")).scalar_one() == 0


def test_regional_scores_formula(conn: Connection, catalog: dict[str, int]) -> None:
    ingest(conn, country_tsv(CHART))
    got = {(s.title_id, s.region_code): s for s in compute_regional_scores(conn)}
    squid = catalog["Squid Game"]
    kr = got[(squid, "KR")]
    # KR: Squid Game #1 twice = 20 points, the region's best -> 1.0
    assert (kr.weeks_in_top10, kr.best_rank, kr.points, kr.score) == (2, 1, 20, 1.0)
    assert (kr.first_week, kr.last_week) == (date(2021, 9, 26), date(2021, 10, 3))
    th = got[(squid, "TH")]
    # TH: Squid Game #4 = 7 points; Money Heist (not in the catalog) #1 = 10 points is the max
    assert (th.points, th.score) == (7, pytest.approx(0.7))
    spider = got[(catalog["Spider-Man 3"], "KR")]
    assert (spider.points, spider.score) == (10, pytest.approx(0.5))
    stored = conn.execute(
        text("SELECT points, score FROM regional_scores WHERE title_id = :t AND region_code='TH'"),
        {"t": squid},
    ).one()
    assert (stored.points, stored.score) == (7, pytest.approx(0.7))


def test_two_seasons_in_one_week_count_once(conn: Connection, catalog: dict[str, int]) -> None:
    ingest(
        conn,
        country_tsv(
            [
                ("FR", "2021-10-03", "TV", 2, "Squid Game", "Squid Game: Season 2", 1),
                ("FR", "2021-10-03", "TV", 5, "Squid Game", "Squid Game: Season 1", 3),
            ]
        ),
    )
    [s] = compute_regional_scores(conn)
    assert (s.weeks_in_top10, s.best_rank, s.points) == (1, 2, 9)


def test_scores_before_cutoff_ignore_later_weeks(conn: Connection, catalog: dict[str, int]) -> None:
    ingest(conn, country_tsv(CHART))
    before = compute_regional_scores(conn, before=date(2021, 10, 3))
    assert [(s.region_code, s.points, s.score) for s in before] == [("KR", 10, 1.0)]
    assert compute_regional_scores(conn, before=date(2021, 9, 26)) == []
    # Nothing written by the cutoff computation.
    assert conn.execute(text("SELECT count(*) FROM regional_scores")).scalar_one() == 3


def test_global_ingest_and_scores(conn: Connection, catalog: dict[str, int]) -> None:
    data = global_tsv(
        [
            ("2021-09-26", "TV (Non-English)", 1, "Squid Game", 100, 40),
            ("2021-10-03", "TV (Non-English)", 1, "Squid Game", 250, ""),
            ("2021-10-03", "Films (English)", 3, "Spider-Man 3", 9),
            ("2021-10-03", "TV (English)", 3, "Unknown Show", 9),
        ]
    )
    summary = ingest(conn, data, "top10-global")
    assert summary.inserted == 4
    assert (summary.matches.matched, summary.matches.unmatched) == (2, 1)
    g = {s.title_id: s for s in compute_global_scores(conn)}
    squid = g[catalog["Squid Game"]]
    assert (squid.weeks_in_top10, squid.best_rank, squid.hours_viewed, squid.views) == (
        2,
        1,
        350,
        40,
    )
    assert [s.title_id for s in compute_global_scores(conn, before=date(2021, 10, 1))] == [
        catalog["Squid Game"]
    ]
    assert summary.scores is not None
    assert summary.scores.global_titles == 2
    assert ingest(conn, data, "top10-global").unchanged == 4


def test_viewing_ingest_external_id_and_names(conn: Connection, catalog: dict[str, int]) -> None:
    data = viewing_csv(
        [
            ("Squid Game", "SHOW", "KR", "2021-09-20", "2021-09-26", "hours", 1500, ""),
            ("Whatever", "MOVIE", "KR", "2021-09-20", "2021-09-26", "views", 10, "a3"),
            ("Nope", "MOVIE", "KR", "2021-09-20", "2021-09-26", "views", 10, "zz9"),
        ],
        external_id=True,
    )
    summary = ingest(conn, data, "viewing")
    assert summary.inserted == 2
    assert [(e.line, e.field) for e in summary.rejected] == [(4, "external_id")]
    rows = {
        r.show_title: r.title_id
        for r in conn.execute(text("SELECT show_title, title_id FROM viewing_metrics"))
    }
    assert rows == {"Squid Game": catalog["Squid Game"], "Whatever": catalog["Spider-Man 3"]}
    assert (summary.matches.rows_matched, summary.matches.rows_total) == (2, 2)
    assert ingest(conn, data, "viewing").unchanged == 2


def test_ingest_file_reads_from_disk(
    conn: Connection, catalog: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "countries.tsv"
    path.write_text(country_tsv(CHART), encoding="utf-8")
    phases: list[str] = []
    summary = ingest_viewing_file(
        conn, path, "top10-countries", progress=lambda p, d, t: phases.append(p)
    )
    assert summary.inserted == 7
    assert summary.seconds > 0
    assert {"read", "stage", "merge"} <= set(phases)
