"""Draw the similarity map (``title_positions``) as a PNG, coloured by primary micro-genre.

Colours: each micro-genre gets a hue from a qualitative palette, cycled; with hundreds of
micro-genres neighbours can share a colour, so the ``labels`` largest micro-genres are also
named where their titles are densest, in a box, nudged apart when they would overlap.
Matplotlib runs on the Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, text

DEFAULT_LABELS = 40


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    micro_genre_id: int | None


@dataclass(frozen=True)
class MapGenre:
    id: int
    label: str
    size: int


@dataclass(frozen=True)
class MapData:
    points: list[MapPoint]
    genres: list[MapGenre]


def load_map(conn: Connection) -> MapData:
    """Every positioned title with its primary micro-genre, and the micro-genres by size."""
    points = [
        MapPoint(float(r.x), float(r.y), r.micro_genre_id)
        for r in conn.execute(
            text(
                "SELECT p.x, p.y, m.micro_genre_id FROM title_positions p "
                "LEFT JOIN title_micro_genres m ON m.title_id = p.title_id AND m.is_primary "
                "ORDER BY p.title_id"
            )
        )
    ]
    genres = [
        MapGenre(r.id, r.label, r.size)
        for r in conn.execute(
            text("SELECT id, label, size FROM micro_genres ORDER BY size DESC, id")
        )
    ]
    return MapData(points, genres)


def draw_map(
    data: MapData,
    out: Path,
    *,
    labels: int = DEFAULT_LABELS,
    title: str | None = None,
    size_inches: tuple[float, float] = (18.0, 14.0),
    dpi: int = 110,
) -> Path:
    """Write the map to ``out`` (PNG); returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patheffects as path_effects
    import matplotlib.pyplot as plt

    if not data.points:
        raise ValueError("no map positions: run `contentintel cluster` first")
    xy = np.array([(p.x, p.y) for p in data.points], dtype=np.float64)
    index = {g.id: n for n, g in enumerate(data.genres)}
    genre_of = np.array(
        [-1 if p.micro_genre_id is None else index.get(p.micro_genre_id, -1) for p in data.points]
    )
    palette = _palette(plt)
    colours = np.array(
        [palette[g % len(palette)] if g >= 0 else (0.75, 0.75, 0.75, 1.0) for g in genre_of]
    )

    figure, axes = plt.subplots(figsize=size_inches, dpi=dpi)
    try:
        point_size = float(np.clip(60000 / max(len(xy), 1), 5.0, 40.0))
        axes.scatter(xy[:, 0], xy[:, 1], s=point_size, c=colours, linewidths=0, alpha=0.75)
        placed: list[tuple[float, float]] = []
        span = float(np.ptp(xy, axis=0).max()) or 1.0
        for genre in data.genres[: max(labels, 0)]:
            members = xy[genre_of == index[genre.id]]
            if len(members) == 0:
                continue
            x, y = _densest(members, span * 0.03)
            x, y = _nudge(x, y, placed, span * 0.03)
            placed.append((x, y))
            colour = palette[index[genre.id] % len(palette)]
            text_artist = axes.annotate(
                f"{genre.label} ({genre.size})",
                (x, y),
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                color="#222222",
                bbox={
                    "boxstyle": "round,pad=0.25",
                    "facecolor": (*colour[:3], 0.25),
                    "edgecolor": colour,
                    "linewidth": 0.8,
                },
            )
            text_artist.set_path_effects([path_effects.withStroke(linewidth=2, foreground="white")])
        axes.set_title(
            title
            or f"Similarity map: {len(xy):,} titles in {len(data.genres):,} micro-genres "
            f"(the {min(labels, len(data.genres))} largest named)",
            fontsize=13,
        )
        axes.set_xticks([])
        axes.set_yticks([])
        for spine in axes.spines.values():
            spine.set_visible(False)
        figure.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out, format="png")
    finally:
        plt.close(figure)
    return out


def _palette(plt: object) -> Sequence[tuple[float, float, float, float]]:
    import matplotlib as mpl

    colours: list[tuple[float, float, float, float]] = []
    for name in ("tab20", "tab20b", "tab20c", "Dark2"):
        cmap = mpl.colormaps[name]
        colours.extend(tuple(float(c) for c in cmap(i)) for i in range(cmap.N))  # type: ignore[misc]
    return colours


def _densest(members: np.ndarray, radius: float) -> tuple[float, float]:
    """The member with the most other members within ``radius`` (a micro-genre that t-SNE
    drew as two islands is labelled on the larger one, not in the gap between them)."""
    sample = members[:: max(1, len(members) // 400)]
    dist = ((sample[:, None, :] - sample[None, :, :]) ** 2).sum(axis=2)
    best = int(np.argmax((dist <= radius**2).sum(axis=1)))
    return float(sample[best, 0]), float(sample[best, 1])


def _nudge(
    x: float, y: float, placed: Sequence[tuple[float, float]], gap: float
) -> tuple[float, float]:
    """Move a label down in small steps until it clears the labels already placed."""
    for _ in range(12):
        if all(abs(x - px) > gap * 4 or abs(y - py) > gap for px, py in placed):
            break
        y -= gap
    return x, y
