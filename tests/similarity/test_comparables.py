"""Learned comparables: audience profiles and overlap@k, the model on a title with no chart
history, ``contentintel comparables`` and ``similarTitles(mode: COMPARABLES)`` over HTTP."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audiences.ingest import ingest_viewing_bytes
from server.similarity.comparables.model import ComparablesModel, Content, pad
from server.similarity.comparables.profiles import (
    PointsRow,
    audience_profiles,
    overlap_at,
    self_exclusions,
    top_k,
)
from server.similarity.comparables.service import fit_comparables
from tests.audiences.charts import country_tsv
from tests.helpers import acreate_titles, gql, title_record
from tests.similarity.conftest import Embed


def test_profiles_are_centred_shares_and_overlap_is_their_cosine() -> None:
    rows = [
        PointsRow(1, "KR", 30),
        PointsRow(1, "TH", 10),
        PointsRow(2, "KR", 3),
        PointsRow(2, "TH", 1),
        PointsRow(3, "US", 8),
        PointsRow(4, "US", 5),
        PointsRow(4, "KR", 5),
    ]
    p = audience_profiles(rows)
    assert p.regions == ["KR", "TH", "US"]
    shares = np.array([[0.75, 0.25, 0], [0.75, 0.25, 0], [0, 0, 1], [0.5, 0, 0.5]])
    np.testing.assert_allclose(p.mean, shares.mean(axis=0))
    centred = shares - shares.mean(axis=0)
    np.testing.assert_allclose(p.unit, centred / np.linalg.norm(centred, axis=1, keepdims=True))
    # Same shares, ten times fewer points: the same profile (overlap 1).
    assert float(p.unit[0] @ p.unit[1]) == pytest.approx(1.0)
    # Each title's nearest by profile, itself excluded: 1 <-> 2, 3 -> 4 (shares US), 4 -> 3.
    chosen = top_k(p.unit @ p.unit.T, 1, self_exclusions(p.title_ids, p.title_ids))
    assert chosen[:, 0].tolist() == [1, 0, 3, 2]
    expected = np.mean([p.unit[i] @ p.unit[j] for i, j in enumerate(chosen[:, 0])])
    assert overlap_at(p.unit, p.unit, chosen) == pytest.approx(expected)
    # A method choosing the other cluster scores lower than the profiles themselves.
    wrong = np.array([[2], [3], [0], [1]])
    assert overlap_at(p.unit, p.unit, wrong) < overlap_at(p.unit, p.unit, chosen)
    with pytest.raises(ValueError, match="mean has"):
        audience_profiles(rows, mean=np.zeros(2))


def test_the_model_predicts_the_audience_of_a_title_without_chart_history() -> None:
    """Korean shows chart in KR and TH, US films in US: a new Korean title, never charted,
    gets a predicted profile that overlaps the Korean shows' and not the US films'."""
    rng = np.random.default_rng(1)

    def content(origins: list[str]) -> Content:
        facets = {
            b: rng.standard_normal((len(origins), d)).astype(np.float32)
            for b, d in (("text", 8), ("projected", 4), ("tags", 8), ("metadata", 4))
        }
        facets["people"] = np.zeros((len(origins), 8), dtype=np.float32)
        kind = {"KR": "SHOW", "US": "MOVIE"}
        return Content(facets, [[f"origin:{o}", f"kind:{kind[o]}"] for o in origins])

    origins = ["KR"] * 6 + ["US"] * 6
    rows = [PointsRow(i, r, 10) for i in range(6) for r in ("KR", "TH")]
    rows += [PointsRow(6 + i, "US", 10) for i in range(6)]
    profiles = audience_profiles(rows)
    model = ComparablesModel.fit(content(origins), profiles.unit, profiles.regions, profiles.mean)
    new = model.vectors(content(["KR", "US"]))
    observed = pad(profiles.unit)
    overlap = new @ observed.T
    assert overlap[0, :6].min() > 0.5 > overlap[0, 6:].max()
    assert overlap[1, 6:].min() > 0.5 > overlap[1, :6].max()
    restored = ComparablesModel.from_bytes(model.to_bytes())
    np.testing.assert_allclose(
        restored.vectors(content(["KR"])), model.vectors(content(["KR"])), atol=1e-5
    )
    with pytest.raises(ValueError, match="at least two titles"):
        ComparablesModel.fit(content(["KR"]), profiles.unit[:1], profiles.regions, profiles.mean)


WEEKS = ("2021-09-12", "2021-09-19", "2021-09-26")
COMPARABLES = """query($id: ID!, $mode: SimilarityMode) {
  similarTitles(titleId: $id, first: 4, mode: $mode) {
    score title { externalId } explanation { facetScores { synopsis people } } } }"""


async def _world(aconn: AsyncConnection, embed: Embed) -> dict[str, int]:
    korean = {
        "kind": "SHOW",
        "seasons": 1,
        "duration_minutes": None,
        "origin_countries": ["KR"],
        "original_language": "ko",
        "genres": ["Korean TV Shows"],
    }
    await acreate_titles(
        aconn,
        *(title_record(external_id=f"k{i}", name=f"Seoul Story {i}", **korean) for i in range(4)),
        title_record(external_id="k-new", name="Busan Lights", **korean),
        *(
            title_record(
                external_id=f"u{i}",
                name=f"Highway Fury {i}",
                genres=["Action & Adventure"],
                synopsis="A getaway driver outruns the police across Nevada.",
            )
            for i in range(4)
        ),
    )
    rows: list[tuple[object, ...]] = []
    for week in WEEKS:
        for region in ("KR", "TH"):
            rows += [(region, week, "TV", i + 1, f"Seoul Story {i}") for i in range(4)]
        for region in ("US", "FR"):
            rows += [(region, week, "Films", i + 1, f"Highway Fury {i}") for i in range(4)]
    data = country_tsv(rows)
    await aconn.run_sync(lambda c: ingest_viewing_bytes(c, data, "top10-countries"))
    await embed()
    ids = (await aconn.execute(text("SELECT external_id, id FROM titles"))).all()
    return {e: i for e, i in ids}


async def test_similar_titles_comparables_mode(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    ids = await _world(aconn, embed)
    before = await gql(client, COMPARABLES, {"id": str(ids["k-new"]), "mode": "COMPARABLES"})
    error = before["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "contentintel comparables" in error["message"]

    summary = await aconn.run_sync(lambda c: fit_comparables(c))
    assert (summary.training_titles, summary.regions, summary.vectors) == (8, 4, 9)
    assert summary.observed == 8

    # A Korean title that never charted: its comparables are the Korean shows (their audience).
    body = await gql(client, COMPARABLES, {"id": str(ids["k-new"]), "mode": "COMPARABLES"})
    assert body.get("errors") is None, body
    rows = body["data"]["similarTitles"]
    assert {r["title"]["externalId"] for r in rows} == {f"k{i}" for i in range(4)}
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0.5
    assert all("people" in r["explanation"]["facetScores"] for r in rows)

    # A charted US film: the other US films share its audience exactly.
    body = await gql(client, COMPARABLES, {"id": str(ids["u0"]), "mode": "COMPARABLES"})
    films = body["data"]["similarTitles"]
    assert {r["title"]["externalId"] for r in films[:3]} == {"u1", "u2", "u3"}
    assert films[2]["score"] == pytest.approx(1.0, abs=1e-5)

    # The default stays content similarity.
    default = await gql(client, COMPARABLES, {"id": str(ids["u0"])})
    content = await gql(client, COMPARABLES, {"id": str(ids["u0"]), "mode": "CONTENT"})
    assert default["data"] == content["data"]
