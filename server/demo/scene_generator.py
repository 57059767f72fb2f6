"""Synthetic scenes, engagement and retention curves for the demo, tests and benchmarks.

There is no real scene data: this generator gives the scene layer data with the structure real
viewing has, so the score, summaries and lifts have something true to find. For each chosen
title it cuts the movie (or the first episodes of a show) into scenes, tags them, writes a
description, and simulates viewers second by second with a leaving hazard, in several regions:

* **early drop-off**: the hazard is ~5x higher in the first minutes (samplers leave), decaying
  with a ~4-minute time constant;
* **recap / credit skipping**: episodes after the first open with a recap; shows open with
  credits; both are skipped by 45-80% of viewers (movie credits ~15%); end credits are mostly
  skipped or where viewers finish (not counted as a drop-off by the summaries);
* **spikes at reveals and cliffhangers**: a reveal or cliffhanger cuts the hazard to ~40% and
  is rewatched 5-15x more than dialogue; reveals cluster in the last third, shows end episodes
  on a cliffhanger;
* **sag in long dialogue stretches**: consecutive dialogue scenes raise the hazard the longer
  the stretch runs (up to 2x after ~10 minutes) and get skipped more;
* **region differences**: each region has its own base hazard, skip habit and tag tastes
  (e.g. KR and IN hold better through romance, BR and US through action, DE and KR through
  dialogue), plus sampling noise that shrinks with the region's plays.

Engagement rows: one per scene per region plus an all-regions row (plays-weighted); curves:
one per movie / episode per region plus an all-regions curve, at 10-second resolution.
Everything comes from ``sub_rng(seed, "scenes")`` and per-title streams derived from it: same
seed and titles, same data. Records are in the canonical JSONL shapes of the ingest
(``server.scenes.records``), so they load through the same validation and merge.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from server.kit.rng import sub_rng

RESOLUTION = 10
REGIONS: tuple[str, ...] = ("US", "BR", "IN", "KR", "DE")


@dataclass(frozen=True)
class RegionProfile:
    share: float
    """Share of a title's starters in this region."""
    hazard: float
    """Base leaving hazard multiplier."""
    skip: float
    """Recap/credit skip habit multiplier."""
    tastes: Mapping[str, float] = field(default_factory=dict)
    """Hazard multiplier per tag (< 1: holds viewers better)."""


PROFILES: dict[str, RegionProfile] = {
    "US": RegionProfile(0.34, 1.00, 1.15, {"action": 0.80, "chase": 0.85, "dialogue": 1.10}),
    "BR": RegionProfile(0.18, 1.05, 1.00, {"action": 0.80, "romance": 0.85, "comedy": 0.85}),
    "IN": RegionProfile(0.22, 1.20, 0.85, {"romance": 0.70, "dialogue": 1.15, "action": 0.90}),
    "KR": RegionProfile(0.14, 0.90, 0.95, {"romance": 0.65, "dialogue": 0.90, "reveal": 0.85}),
    "DE": RegionProfile(0.12, 0.95, 1.05, {"dialogue": 0.85, "action": 1.10, "comedy": 1.10}),
}
_REGION_WEIGHTS = {r: PROFILES[r].share for r in REGIONS}

# Hazard multipliers, skip rates and rewatch rates by tag (the first matching tag of a scene
# in this order decides).
HAZARD = {
    "cliffhanger": 0.35,
    "reveal": 0.40,
    "action": 0.70,
    "chase": 0.65,
    "suspense": 0.75,
    "romance": 0.95,
    "comedy": 0.90,
    "flashback": 1.15,
    "montage": 1.05,
    "dialogue": 1.00,
    "recap": 1.30,
    "opening-credits": 1.40,
    "end-credits": 1.0,
}
SKIP = {
    "recap": 0.62,
    "opening-credits": 0.70,
    "end-credits": 0.75,
    "flashback": 0.06,
    "montage": 0.05,
    "dialogue": 0.025,
}
REWATCH = {
    "reveal": 0.12,
    "cliffhanger": 0.09,
    "action": 0.06,
    "chase": 0.05,
    "romance": 0.045,
    "comedy": 0.04,
    "suspense": 0.035,
    "dialogue": 0.012,
    "flashback": 0.02,
    "montage": 0.015,
    "recap": 0.003,
    "opening-credits": 0.002,
    "end-credits": 0.002,
}
BASE_HAZARD = 0.00009
"""Per-second leaving hazard of a typical scene (about 40% gone after two hours, all in)."""

# Content-scene tag mixes by genre keyword (names in the catalog's genres).
_MIX_DEFAULT = {"dialogue": 4, "action": 1, "romance": 1, "comedy": 1, "suspense": 1, "reveal": 1}
_GENRE_MIX = {
    "action": {"action": 5, "chase": 2, "dialogue": 3, "suspense": 1, "reveal": 1},
    "thriller": {"suspense": 4, "dialogue": 3, "chase": 1, "reveal": 2, "action": 1},
    "horror": {"suspense": 5, "dialogue": 2, "reveal": 2, "chase": 1},
    "crime": {"dialogue": 4, "suspense": 2, "reveal": 2, "action": 1, "chase": 1},
    "romantic": {"romance": 5, "dialogue": 4, "comedy": 2, "montage": 1},
    "comed": {"comedy": 5, "dialogue": 3, "romance": 1, "montage": 1},
    "drama": {"dialogue": 6, "romance": 1, "flashback": 1, "reveal": 1},
    "documentar": {"dialogue": 4, "montage": 3, "reveal": 1, "flashback": 1},
    "kids": {"comedy": 4, "action": 2, "dialogue": 2, "montage": 1},
    "anime": {"action": 4, "dialogue": 3, "flashback": 1, "reveal": 1},
    "sci-fi": {"action": 3, "dialogue": 3, "reveal": 2, "suspense": 1},
}

_PLACES = (
    "warehouse",
    "rooftop",
    "kitchen",
    "police station",
    "hospital corridor",
    "night market",
    "train platform",
    "courtroom",
    "beach house",
    "school gym",
    "parking garage",
    "office tower",
    "village square",
    "motel room",
)
_TEMPLATES = {
    "action": (
        "{a} fights off armed men in the {place} while {b} covers the exit.",
        "A brutal brawl breaks out in the {place}; {a} barely walks away.",
        "{a} and {b} shoot their way out of the {place}.",
    ),
    "chase": (
        "{a} chases a masked figure across the {place} and loses them in the crowd.",
        "A car chase from the {place} ends with {b} cornered.",
    ),
    "suspense": (
        "{a} searches the dark {place}, sure someone is watching.",
        "Footsteps in the {place}: {b} hides and holds their breath.",
    ),
    "reveal": (
        "{b} reveals the truth about the missing money; {a} realises who betrayed them.",
        "A photograph found in the {place} exposes {b}'s secret identity.",
        "{a} learns that {b} has been lying from the very start.",
    ),
    "cliffhanger": (
        "The lights go out in the {place} and {a} is gone; a gunshot in the dark.",
        "{b} opens the door to find the one person who should be dead.",
    ),
    "romance": (
        "{a} and {b} share a quiet moment in the {place} and finally kiss.",
        "A long walk after the {place} closes: {a} confesses their feelings to {b}.",
    ),
    "comedy": (
        "{a}'s plan to impress {b} in the {place} goes hilariously wrong.",
        "A misunderstanding in the {place} leaves {a} dressed as a waiter.",
    ),
    "dialogue": (
        "{a} and {b} argue about the plan over coffee in the {place}.",
        "A long conversation in the {place}: {b} explains the family history.",
        "{a} questions {b} in the {place} about where they were that night.",
    ),
    "flashback": ("A flashback to {a}'s childhood summer by the {place}.",),
    "montage": ("A montage of {a} training and working late in the {place}.",),
    "recap": ("Previously: a recap of the story so far.",),
    "opening-credits": ("Opening credits and title sequence.",),
    "end-credits": ("End credits.",),
}


@dataclass
class SceneData:
    scenes: list[dict[str, Any]] = field(default_factory=list)
    engagement: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)

    @property
    def titles(self) -> int:
        return len({s["external_id"] for s in self.scenes})


def choose_titles(
    records: Sequence[Mapping[str, Any]], n_titles: int, seed: int
) -> list[Mapping[str, Any]]:
    """A deterministic subset of ``n_titles`` catalog records (movies and shows alike)."""
    rng = sub_rng(seed, "scenes")
    if n_titles >= len(records):
        return list(records)
    return [records[i] for i in sorted(rng.sample(range(len(records)), n_titles))]


def generate_scene_data(
    records: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    regions: Sequence[str] = REGIONS,
    max_episodes: int = 3,
) -> SceneData:
    """Scenes, engagement rows and curves for each catalog record (canonical title dicts)."""
    base = sub_rng(seed, "scenes").getrandbits(64)
    data = SceneData()
    for record in records:
        rng = random.Random(f"{base}:{record['external_id']}")
        _title(record, rng, regions, max_episodes, data)
    return data


def _mix_for(genres: Sequence[str]) -> dict[str, int]:
    mix: dict[str, int] = {}
    for genre in genres:
        lowered = genre.lower()
        for key, weights in _GENRE_MIX.items():
            if key in lowered:
                for tag, weight in weights.items():
                    mix[tag] = mix.get(tag, 0) + weight
    return mix or dict(_MIX_DEFAULT)


def _title(
    record: Mapping[str, Any],
    rng: random.Random,
    regions: Sequence[str],
    max_episodes: int,
    data: SceneData,
) -> None:
    ext = str(record["external_id"])
    is_show = record.get("kind") == "SHOW"
    genres = [str(g) for g in record.get("genres") or []]
    mix = _mix_for(genres)
    cast = [str(c) for c in record.get("cast") or []][:6]
    popularity = math.exp(rng.gauss(9.5, 1.0))  # starters over all regions
    quality = rng.gauss(1.0, 0.15)  # the title's own holding power (hazard multiplier)
    if is_show:
        episode_seconds = rng.choice((22, 25, 30, 42, 45, 50, 55)) * 60
        episodes: list[tuple[int | None, int]] = [
            (n, episode_seconds - rng.randrange(0, 120)) for n in range(1, max_episodes + 1)
        ]
    else:
        minutes = int(record.get("duration_minutes") or 100)
        episodes = [(None, minutes * 60 - rng.randrange(0, 30))]
    for number, (episode, length) in enumerate(episodes):
        scenes = _cut(rng, length, mix, is_show=is_show, episode=episode, cast=cast)
        for ordinal, scene in enumerate(scenes, start=1):
            data.scenes.append(
                {
                    "external_id": ext,
                    "episode": episode,
                    "ordinal": ordinal,
                    "start": scene["start"],
                    "end": scene["end"],
                    "description": scene["description"],
                    "tags": scene["tags"],
                    "characters": [],
                    "people": scene["people"],
                }
            )
        starters = popularity * (0.75**number)  # later episodes start with fewer viewers
        _simulate(rng, ext, episode, length, scenes, starters, quality, regions, data)


def _cut(
    rng: random.Random,
    length: int,
    mix: Mapping[str, int],
    *,
    is_show: bool,
    episode: int | None,
    cast: Sequence[str],
) -> list[dict[str, Any]]:
    """Scene boundaries, tags, descriptions and people for one movie or episode."""
    scenes: list[dict[str, Any]] = []
    t = 0

    def add(tag: str, seconds: int, extra: Sequence[str] = ()) -> None:
        nonlocal t
        seconds = min(max(20, seconds), length - t)
        if seconds <= 0:
            return
        people = rng.sample(list(cast), k=min(len(cast), rng.randint(1, 3))) if cast else []
        a = people[0] if people else "the detective"
        b = people[1] if len(people) > 1 else rng.choice(("a stranger", "the sister", "the boss"))
        description = rng.choice(_TEMPLATES[tag]).format(a=a, b=b, place=rng.choice(_PLACES))
        tags = sorted({tag, *extra})
        if tag in ("recap", "opening-credits", "end-credits"):
            people = []
        scenes.append(
            {
                "start": t,
                "end": t + seconds,
                "tags": tags,
                "description": description,
                "people": people,
            }
        )
        t += seconds

    if is_show and episode is not None and episode > 1:
        add("recap", rng.randint(45, 90))
    add("opening-credits", rng.randint(30, 60) if is_show else rng.randint(60, 150))
    credits_at = length - (rng.randint(40, 70) if is_show else rng.randint(180, 420))
    tags = list(mix)
    weights = [mix[k] for k in tags]
    previous = ""
    while t < credits_at - 60:
        remaining = credits_at - t
        if is_show and remaining < 200:
            add("cliffhanger", remaining)
            break
        progress = t / length
        if progress > 0.66 and rng.random() < 0.12:
            tag = "reveal"
        elif previous == "dialogue" and rng.random() < 0.55:
            tag = "dialogue"  # dialogue comes in stretches
        else:
            tag = rng.choices(tags, weights)[0]
        seconds = int(rng.lognormvariate(math.log(150), 0.45))
        if seconds > remaining - 60:
            seconds = remaining
        add(tag, seconds)
        previous = tag
    if t < credits_at:
        add("dialogue", credits_at - t)
    add("end-credits", length - t)
    return scenes


def _primary(tags: Sequence[str], table: Mapping[str, float], default: float) -> float:
    for tag in HAZARD:  # priority order
        if tag in tags and tag in table:
            return table[tag]
    return default


def _simulate(
    rng: random.Random,
    ext: str,
    episode: int | None,
    length: int,
    scenes: Sequence[Mapping[str, Any]],
    starters: float,
    quality: float,
    regions: Sequence[str],
    data: SceneData,
) -> None:
    """Per-second survival in each region; scene metrics and curves from it."""
    seconds = np.arange(length, dtype=np.float64)
    early = 1.0 + 4.0 * np.exp(-seconds / 240.0)
    scene_noise = [rng.lognormvariate(0.0, 0.25) for _ in scenes]
    rewatch_noise = [rng.lognormvariate(0.0, 0.3) for _ in scenes]
    dialogue_run: list[float] = []
    run = 0.0
    for scene in scenes:
        span = scene["end"] - scene["start"]
        if "dialogue" in scene["tags"]:
            run += span
            dialogue_run.append(run - span / 2)
        else:
            run = 0.0
            dialogue_run.append(0.0)

    region_rows: dict[str, list[dict[str, Any]]] = {}
    region_curves: dict[str, np.ndarray[Any, Any]] = {}
    region_starters: dict[str, float] = {}
    total_share = sum(_REGION_WEIGHTS.get(r, 0.1) for r in regions)
    for region in regions:
        profile = PROFILES.get(region, RegionProfile(0.1, 1.0, 1.0))
        n0 = starters * _REGION_WEIGHTS.get(region, 0.1) / total_share
        hazard = np.empty(length, dtype=np.float64)
        skips: list[float] = []
        for index, scene in enumerate(scenes):
            tags = scene["tags"]
            mult = _primary(tags, HAZARD, 1.0)
            taste = _primary(tags, profile.tastes, 1.0)
            sag = 1.0 + min(dialogue_run[index] / 600.0, 1.0) if "dialogue" in tags else 1.0
            regional_noise = rng.lognormvariate(0.0, 0.1)
            hazard[scene["start"] : scene["end"]] = (
                BASE_HAZARD
                * quality
                * profile.hazard
                * mult
                * taste
                * sag
                * scene_noise[index]
                * regional_noise
            )
            skip = _primary(tags, SKIP, 0.015)
            if "opening-credits" in tags and episode is None:
                skip = 0.15  # movie credits are short and not skippable on most devices
            if "dialogue" in tags:
                skip *= sag
            skips.append(min(0.95, skip * profile.skip * rng.lognormvariate(0.0, 0.1)))
        hazard *= early
        survival = np.exp(-np.concatenate(([0.0], np.cumsum(hazard))))
        rows = []
        for index, scene in enumerate(scenes):
            s0, s1 = survival[scene["start"]], survival[scene["end"]]
            exit_rate = float(1.0 - s1 / s0)
            plays = max(1, round(n0 * s0))
            noise = 1.0 / math.sqrt(plays)  # sampling noise of a rate measured on `plays`
            skip = _clip(skips[index] + rng.gauss(0.0, noise * 0.3))
            exit_rate = _clip(exit_rate + rng.gauss(0.0, noise * 0.05))
            rewatch = _clip(
                _primary(scene["tags"], REWATCH, 0.02)
                * rewatch_noise[index]
                * (1.0 / _primary(scene["tags"], profile.tastes, 1.0))
                + rng.gauss(0.0, noise * 0.05)
            )
            watched = _clip(1.0 - 0.9 * skip - 0.5 * exit_rate + rng.gauss(0.0, 0.01 + noise * 0.1))
            rows.append(
                {
                    "external_id": ext,
                    "episode": episode,
                    "ordinal": index + 1,
                    "region": region,
                    "plays": plays,
                    "watched_fraction": round(watched, 4),
                    "rewatch_rate": round(rewatch, 4),
                    "skip_rate": round(skip, 4),
                    "exit_rate": round(exit_rate, 5),
                }
            )
        region_rows[region] = rows
        region_curves[region] = survival[::RESOLUTION]
        region_starters[region] = n0

    for region in regions:
        data.engagement.extend(region_rows[region])
        data.curves.append(_curve(ext, episode, region, region_curves[region]))
    # All regions: plays-weighted means; the curve is the starters-weighted mixture.
    for index in range(len(scenes)):
        rows = [region_rows[r][index] for r in regions]
        plays = sum(r["plays"] for r in rows)
        merged: dict[str, Any] = {**rows[0], "region": None, "plays": plays}
        for metric in ("watched_fraction", "rewatch_rate", "skip_rate", "exit_rate"):
            value = sum(r[metric] * r["plays"] for r in rows) / plays
            merged[metric] = round(_clip(value), 5)
        data.engagement.append(merged)
    total = sum(region_starters.values())
    mixture = sum(region_curves[r] * (region_starters[r] / total) for r in regions)
    data.curves.append(_curve(ext, episode, None, np.asarray(mixture)))


def _curve(
    ext: str, episode: int | None, region: str | None, shares: np.ndarray[Any, Any]
) -> dict[str, Any]:
    return {
        "external_id": ext,
        "episode": episode,
        "region": region,
        "resolution_seconds": RESOLUTION,
        "shares": [round(float(v), 4) for v in shares],
    }


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))
