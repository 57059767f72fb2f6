"""Two-level cohorts: sub-cohorts cut inside each top-level cohort, in the database, over
GraphQL (``Cohort.parent`` / ``Cohort.children``) and within the size bound when the data
allows it."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audiences.ingest import ingest_viewing_bytes
from server.audiences.profiles import SPLIT_MIN, compute_cohorts, split_cohort
from tests.audiences.charts import country_tsv
from tests.helpers import acreate_titles, gql, title_record


def _blobs(sizes: list[int], spread: float = 0.05, seed: int = 3) -> np.ndarray:
    """Distances of points in well-separated blobs of the given sizes."""
    rng = np.random.default_rng(seed)
    centres = np.eye(len(sizes)) * 10
    points = np.vstack(
        [c + rng.normal(0, spread, (n, len(sizes))) for c, n in zip(centres, sizes, strict=True)]
    )
    d = np.linalg.norm(points[:, None] - points[None], axis=2)
    return d / d.max()


def test_split_cohort_finds_the_blobs_and_keeps_sub_cohorts_small() -> None:
    labels, silhouette = split_cohort(_blobs([9, 9, 9]))
    assert sorted(np.bincount(labels).tolist()) == [9, 9, 9]
    assert silhouette is not None
    assert silhouette > 0.8
    # Two blobs of 26: the best silhouette is 2 sub-cohorts, but both exceed the bound of
    # 20 while a finer cut does not: the finer cut wins.
    labels, _ = split_cohort(_blobs([13, 13, 13, 13]), max_size=20)
    assert max(np.bincount(labels)) <= 20
    few, none = split_cohort(_blobs([3, SPLIT_MIN - 4]))
    assert few == [0] * (SPLIT_MIN - 1)
    assert none is None


WEEKS = ("2021-09-12", "2021-09-19", "2021-09-26")
ASIA, WEST = ("KR", "TH", "TW", "HK"), ("US", "CA", "GB", "IE")

COHORTS = "{ cohorts { id size level parent { id } children { id size level } } }"
SUB_COHORT = """query($id: ID!) {
  cohort(id: $id) { level regions { code } parent { id size } children { id } } }"""


async def test_one_top_cohort_splits_into_its_two_audiences(
    client: httpx.AsyncClient, aconn: AsyncConnection
) -> None:
    await acreate_titles(
        aconn,
        *(title_record(external_id=f"k{i}", name=f"Seoul Story {i}") for i in range(4)),
        *(title_record(external_id=f"u{i}", name=f"Highway Fury {i}") for i in range(4)),
        title_record(external_id="hit", name="Everywhere Hit"),
    )
    rows: list[tuple[object, ...]] = []
    for week in WEEKS:
        for region in (*ASIA, *WEST):
            rows.append((region, week, "Films", 1, "Everywhere Hit"))
            shows = "Seoul Story" if region in ASIA else "Highway Fury"
            rows += [(region, week, "Films", i + 2, f"{shows} {i}") for i in range(4)]
    data = country_tsv(rows)
    await aconn.run_sync(lambda c: ingest_viewing_bytes(c, data, "top10-countries"))
    summary = await aconn.run_sync(lambda c: compute_cohorts(c, k=1))
    (top,) = summary.cohorts
    assert len(top.members) == 8
    assert sorted(sorted(code for code, _ in c.members) for c in top.children) == sorted(
        [sorted(ASIA), sorted(WEST)]
    )
    assert top.silhouette is not None
    assert top.silhouette > 0.5
    stored = (
        await aconn.execute(
            text(
                "SELECT m.region_code, s.parent_id = m.cohort_id FROM cohort_members m "
                "JOIN cohorts s ON s.id = m.sub_cohort_id ORDER BY 1"
            )
        )
    ).all()
    assert [r[0] for r in stored] == sorted((*ASIA, *WEST))
    assert all(r[1] for r in stored)

    body = await gql(client, COHORTS)
    assert body.get("errors") is None, body
    (cohort,) = body["data"]["cohorts"]  # sub-cohorts are children, not listed at the top
    assert (cohort["size"], cohort["level"], cohort["parent"]) == (8, 1, None)
    children = cohort["children"]
    assert [(c["size"], c["level"]) for c in children] == [(4, 2), (4, 2)]
    regions = []
    for child in children:
        one = await gql(client, SUB_COHORT, {"id": child["id"]})
        assert one.get("errors") is None, one
        sub = one["data"]["cohort"]
        assert sub["level"] == 2
        assert sub["parent"] == {"id": cohort["id"], "size": 8}
        assert sub["children"] == []
        regions.append(sorted(r["code"] for r in sub["regions"]))
    assert sorted(regions) == sorted([sorted(ASIA), sorted(WEST)])
    # A region's cohort is its top-level cohort.
    region = await gql(client, '{ region(code: "KR") { cohort { id level } } }')
    assert region["data"]["region"]["cohort"] == {"id": cohort["id"], "level": 1}


@pytest.mark.parametrize("sizes", [[4, 4], [3, 3, 3]])
def test_sub_cohort_labels_of_blobs_are_their_own(sizes: list[int]) -> None:
    labels, _ = split_cohort(_blobs(sizes))
    assert sorted(np.bincount(labels).tolist()) == sorted(sizes)
