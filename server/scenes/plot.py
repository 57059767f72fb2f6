"""Draw a title's retention curve as a PNG with its best and worst scenes marked.

Matplotlib on the Agg backend (no display). The curve is the stored one (movie, or the chosen
episode of a show; default its first) or, without one, derived from the scenes' exit rates.
The ``marks`` highest- and lowest-scoring scenes (engagement score) are shaded and labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from server.scenes.service import Curve, derive_curve

DEFAULT_MARKS = 3


@dataclass(frozen=True)
class PlotScene:
    ordinal: int
    start: float
    end: float
    tags: list[str]
    score: float | None


@dataclass(frozen=True)
class CurvePlotData:
    title: str
    curve: Curve
    scenes: list[PlotScene]


def load_curve(
    conn: Connection, title_id: int, episode: int | None = None, region: str | None = None
) -> CurvePlotData | None:
    """The curve and scenes to draw; None when the title is unknown or has no scene data."""
    name = conn.execute(
        text("SELECT name FROM titles WHERE id = :id"), {"id": title_id}
    ).scalar_one_or_none()
    if name is None:
        return None
    if episode is None:
        episode = conn.execute(
            text("SELECT min(episode) FROM scenes WHERE title_id = :id"), {"id": title_id}
        ).scalar_one_or_none()
    scenes = [
        PlotScene(
            int(r[0]),
            float(r[1]),
            float(r[2]),
            list(r[3] or []),
            None if r[4] is None else float(r[4]),
        )
        for r in conn.execute(
            text(
                """
                SELECT s.ordinal, s.start_seconds, s.end_seconds,
                       array(SELECT t.name FROM scene_tag_links l
                             JOIN scene_tags t ON t.id = l.tag_id
                             WHERE l.scene_id = s.id ORDER BY t.name),
                       e.score, e.exit_rate
                FROM scenes s
                LEFT JOIN scene_engagement e ON e.scene_id = s.id
                    AND e.region IS NOT DISTINCT FROM :region
                WHERE s.title_id = :id AND s.episode IS NOT DISTINCT FROM :episode
                ORDER BY s.start_seconds
                """
            ),
            {"id": title_id, "episode": episode, "region": region},
        )
    ]
    stored = conn.execute(
        text(
            "SELECT resolution_seconds, shares FROM retention_curves WHERE title_id = :id "
            "AND episode IS NOT DISTINCT FROM :episode AND region IS NOT DISTINCT FROM :region"
        ),
        {"id": title_id, "episode": episode, "region": region},
    ).one_or_none()
    if stored is not None:
        curve = Curve(
            title_id, episode, region, int(stored[0]), [float(v) for v in stored[1]], False
        )
    else:
        exits = conn.execute(
            text(
                """
                SELECT s.start_seconds, s.end_seconds, e.exit_rate
                FROM scenes s JOIN scene_engagement e ON e.scene_id = s.id
                    AND e.region IS NOT DISTINCT FROM :region
                WHERE s.title_id = :id AND s.episode IS NOT DISTINCT FROM :episode
                ORDER BY s.start_seconds
                """
            ),
            {"id": title_id, "episode": episode, "region": region},
        ).all()
        if not exits:
            return None
        curve = derive_curve(
            title_id, episode, region, [(float(a), float(b), float(c)) for a, b, c in exits]
        )
    label = str(name) + (f", episode {episode}" if episode is not None else "")
    return CurvePlotData(label + (f" ({region})" if region else ""), curve, scenes)


def draw_curve(data: CurvePlotData, out: Path, *, marks: int = DEFAULT_MARKS) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = data.curve.resampled(None)
    minutes = [s / 60 for s, _ in points]
    shares = [v for _, v in points]
    scored = sorted((s for s in data.scenes if s.score is not None), key=lambda s: s.score or 0.0)
    worst = scored[:marks]
    best = [s for s in reversed(scored[-marks:]) if s not in worst]

    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    for index, scene in enumerate(data.scenes):
        if index % 2:
            ax.axvspan(scene.start / 60, scene.end / 60, color="0.94", lw=0)
    ax.plot(minutes, shares, color="#1f4e79", lw=2, label="still watching")
    for group, colour, name in ((best, "#2e7d32", "top"), (worst, "#c62828", "worst")):
        for rank, scene in enumerate(group, start=1):
            ax.axvspan(scene.start / 60, scene.end / 60, color=colour, alpha=0.18, lw=0)
            middle = (scene.start + scene.end) / 2
            y = data.curve.share_at(middle)
            tag = ", ".join(t for t in scene.tags[:2]) or "scene"
            ax.annotate(
                f"{name} {rank}: #{scene.ordinal} {tag}\nscore {scene.score:+.2f}",
                xy=(middle / 60, y),
                xytext=(0, 28 if name == "top" else -38),
                textcoords="offset points",
                ha="center",
                fontsize=7.5,
                color=colour,
                arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.8},
            )
    ax.set_xlim(0, max(minutes[-1], 1e-6))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("minutes")
    ax.set_ylabel("share of starting viewers")
    source = "derived from scene exit rates" if data.curve.derived else "retention curve"
    ax.set_title(f"{data.title}: {source}; top and worst scenes by engagement score")
    ax.grid(axis="y", color="0.85", lw=0.6)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    plt.close(fig)
