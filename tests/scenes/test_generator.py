"""The synthetic scene generator: deterministic, valid, and with the documented structure."""

from __future__ import annotations

import statistics
from collections import defaultdict
from functools import cache
from typing import Any

from server.demo.generator import generate_catalog
from server.demo.scene_generator import REGIONS, SceneData, choose_titles, generate_scene_data
from server.scenes.ingest import raw_rows, validate_engagement_rows, validate_scene_rows
from server.scenes.records import TitleInfo
from server.scenes.score import score_of


@cache
def catalog() -> list[dict[str, Any]]:
    return generate_catalog(300, seed=11)


@cache
def data() -> SceneData:
    return generate_scene_data(choose_titles(catalog(), 80, seed=11), seed=11)


def global_rows() -> list[dict[str, Any]]:
    return [r for r in data().engagement if r["region"] is None]


def tags_of() -> dict[tuple[str, Any, int], list[str]]:
    return {(s["external_id"], s["episode"], s["ordinal"]): s["tags"] for s in data().scenes}


def mean_by_tag(metric: str) -> dict[str, float]:
    tags = tags_of()
    values: dict[str, list[float]] = defaultdict(list)
    for r in global_rows():
        for tag in tags[(r["external_id"], r["episode"], r["ordinal"])]:
            values[tag].append(r[metric])
    return {tag: statistics.fmean(v) for tag, v in values.items()}


def test_same_seed_same_data_other_seed_other_data() -> None:
    chosen = choose_titles(catalog(), 10, seed=11)
    first = generate_scene_data(chosen, seed=11)
    assert generate_scene_data(chosen, seed=11) == first
    assert generate_scene_data(chosen, seed=12).engagement != first.engagement
    assert choose_titles(catalog(), 10, seed=11) == chosen


def test_records_pass_validation() -> None:
    titles = {
        r["external_id"]: TitleInfo(i, str(r["kind"]), r.get("duration_minutes"))  # type: ignore[arg-type]
        for i, r in enumerate(catalog(), start=1)
    }
    scenes = validate_scene_rows(raw_rows(data().scenes), titles)
    assert scenes.rejected == []
    index = {s.key: n for n, s in enumerate(scenes.scenes, start=1)}
    rows = validate_engagement_rows(raw_rows([*data().engagement, *data().curves]), titles, index)
    assert rows.rejected == []
    assert len(rows.engagement) == len(data().scenes) * (len(REGIONS) + 1)


def test_recaps_and_credits_are_skipped() -> None:
    skip = mean_by_tag("skip_rate")
    assert skip["recap"] > 0.4
    assert skip["opening-credits"] > 0.3
    assert max(skip[t] for t in ("action", "reveal", "dialogue")) < 0.1


def test_reveals_and_cliffhangers_spike() -> None:
    rewatch = mean_by_tag("rewatch_rate")
    assert rewatch["reveal"] > 4 * rewatch["dialogue"]
    assert rewatch["cliffhanger"] > 4 * rewatch["dialogue"]
    # Scores within titles: reveals and cliffhangers above the typical scene, recaps below.
    tags = tags_of()
    by_title: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    for r in global_rows():
        by_title[(r["external_id"], r["episode"])].append(r)
    scores: dict[str, list[float]] = defaultdict(list)
    for rows in by_title.values():
        values = score_of(
            [
                (r["watched_fraction"], r["rewatch_rate"], r["skip_rate"], r["exit_rate"])
                for r in rows
            ]
        )
        for r, value in zip(rows, values, strict=True):
            for tag in tags[(r["external_id"], r["episode"], r["ordinal"])]:
                scores[tag].append(value)
    mean = {tag: statistics.fmean(v) for tag, v in scores.items()}
    assert mean["reveal"] > 0.3
    assert mean["cliffhanger"] > 0.3
    assert mean["recap"] < -0.5
    assert mean["dialogue"] < mean["action"]


def test_early_drop_off() -> None:
    for curve in data().curves[:40]:
        shares = curve["shares"]
        step = curve["resolution_seconds"]
        first_five_min = shares[0] - shares[300 // step]
        later_per_five_min = (shares[300 // step] - shares[-1]) / (
            (len(shares) - 1) * step / 300 - 1
        )
        assert first_five_min > 1.5 * later_per_five_min, curve["external_id"]


def test_long_dialogue_stretches_sag() -> None:
    """Exit rate per minute of dialogue grows with the length of the dialogue stretch."""
    scenes = {(s["external_id"], s["episode"], s["ordinal"]): s for s in data().scenes}
    early, late = [], []
    for r in global_rows():
        key = (r["external_id"], r["episode"], r["ordinal"])
        s = scenes[key]
        if "dialogue" not in s["tags"] or s["start"] < 600:
            continue
        previous = scenes.get((key[0], key[1], key[2] - 1))
        rate = r["exit_rate"] / ((s["end"] - s["start"]) / 60)
        (late if previous and "dialogue" in previous["tags"] else early).append(rate)
    assert statistics.fmean(late) > 1.1 * statistics.fmean(early)


def test_regions_differ() -> None:
    tags = tags_of()
    romance: dict[str, list[float]] = defaultdict(list)
    for r in data().engagement:
        if r["region"] and "romance" in tags[(r["external_id"], r["episode"], r["ordinal"])]:
            romance[r["region"]].append(r["exit_rate"] / 1.0)
    assert statistics.fmean(romance["KR"]) < statistics.fmean(romance["US"])
    curves = [c for c in data().curves if c["region"] == "IN"]
    others = [c for c in data().curves if c["region"] == "KR"]
    assert statistics.fmean(c["shares"][-1] for c in curves) < statistics.fmean(
        c["shares"][-1] for c in others
    )
