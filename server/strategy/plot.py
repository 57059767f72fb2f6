"""The supply-vs-demand quadrant of a market as a PNG (matplotlib on the Agg backend).

Log-log: supply share across, demand share up, one bubble per group sized by its catalog
titles and coloured by the opportunity's lower bound. The dashed lines at 1/G (the average
share of a group) split the plane into quadrants, and the diagonal is demand = supply: the
top-left quadrant (more demand than an average group, less supply) is where the gaps are.
Groups without demand sit on the bottom edge. The top gaps are labelled with their rank.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from server.strategy.service import GapReport

LABELLED = 8


def draw_quadrant(
    report: GapReport, labels: Mapping[int | str, str], path: Path, title: str, top: int = LABELLED
) -> None:
    """``labels``: group key (micro-genre id or parent genre) -> name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gaps = report.gaps
    supply = np.array([g.supply_share for g in gaps])
    demand = np.array([g.demand_share for g in gaps])
    size = np.array([max(g.catalog_titles, 0.5) for g in gaps])
    low = np.array([g.low for g in gaps])
    positive = demand[demand > 0]
    floor = float(positive.min()) / 2 if positive.size else 1e-4
    shown = np.where(demand > 0, demand, floor)
    fig, ax = plt.subplots(figsize=(11, 8), dpi=110)
    scatter = ax.scatter(
        np.maximum(supply, 1e-5),
        shown,
        s=20 + 400 * size / max(float(size.max()), 1.0),
        c=np.clip(low, 0.0, max(float(np.percentile(low, 99)), 1.0)),
        cmap="viridis",
        alpha=0.7,
        edgecolors=["black" if d > 0 else "lightgrey" for d in demand],
        linewidths=0.5,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    average = 1 / max(len(gaps), 1)
    ax.axvline(average, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(average, color="grey", linestyle="--", linewidth=0.8)
    lo = min(float(np.maximum(supply, 1e-5).min()), floor) / 1.5
    hi = max(float(supply.max()), float(shown.max())) * 1.5
    ax.plot([lo, hi], [lo, hi], color="firebrick", linewidth=0.8, label="demand = supply")
    ax.set_xlim(lo, hi)
    ax.set_ylim(floor / 1.5, hi)
    ax.text(
        0.98,
        0.98,
        "top left of the crossing lines: under-supplied, in demand",
        transform=ax.transAxes,
        fontsize=9,
        color="firebrick",
        va="top",
        ha="right",
    )
    # Labels in a column at the left, top gap first, with a line to their bubble: the top
    # gaps crowd the upper middle, where boxes next to the bubbles would overlap.
    for n, g in enumerate(gaps[:top]):
        key: int | str = g.micro_genre_id if g.micro_genre_id is not None else (g.genre or "")
        name = labels.get(key, str(key))
        ax.annotate(
            f"{g.rank}. {name}: O {g.opportunity:.1f} [{g.low:.1f}, {g.high:.1f}]",
            (max(g.supply_share, 1e-5), g.demand_share if g.demand_share > 0 else floor),
            xytext=(0.02, 0.90 - n * 0.045),
            textcoords="axes fraction",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "grey", "alpha": 0.9},
            arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.6},
        )
    colorbar = fig.colorbar(scatter, ax=ax)
    colorbar.set_label("lower bound of the opportunity (90% interval)")
    ax.set_xlabel("supply share: memberships / catalog titles (log)")
    ax.set_ylabel("demand share: weighted chart points / matched points (log)")
    ax.set_title(title, fontsize=11)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="major", alpha=0.2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
