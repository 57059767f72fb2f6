"""Citus layout: which tables are distributed (by title id, co-located) and which are
reference tables (copied to every node), and the calls that make it so.

Rules the schema keeps (a test checks them against the models): every distributed table has
``title_id`` in its primary key and in every unique index; every table is classified here.
``titles`` itself is a reference table: ``external_id`` must be unique across the whole
catalog (Citus enforces uniqueness per shard only when it includes the distribution column),
and every query joins it, so a copy on every node keeps those joins local.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text

DISTRIBUTION_COLUMN = "title_id"

REFERENCE_TABLES = (
    "countries",
    "tags",
    "people",
    "titles",
    "micro_genres",
    "embedding_projections",
    "api_keys",
    "regions",
    "region_tastes",
    "region_genres",
    "region_micro_genres",
    "cohorts",
    "cohort_members",
    "chart_names",
    "top10_country_weeks",
    "top10_global_weeks",
    "viewing_metrics",
    "scene_tags",
    "forecast_models",
    "comparables_models",
    "backtests",
    "content_gaps",
    "micro_genre_travelability",
)
"""Small or looked up by something other than a title: a full copy on every node. The raw
chart and viewing rows are keyed by region/week and may have no title (unmatched names);
they are thousands of rows per year of charts."""

DISTRIBUTED_TABLES = (
    "title_embeddings",  # the first one: the others are co-located with it
    "title_tags",
    "credits",
    "title_countries",
    "title_micro_genres",
    "title_positions",
    "regional_scores",
    "global_scores",
    "soft_memberships",
    "title_demand",
    "audience_comparables",
    "title_comparables",
)
"""Rows per title: sharded by ``title_id``, all co-located, so per-title joins stay on a shard."""

COORDINATOR_TABLES = (
    "scenes",
    "scene_embeddings",
    "scene_engagement",
    "scene_people",
    "scene_tag_links",
    "retention_curves",
)
"""Per-title data whose keys do not carry ``title_id`` yet (scenes are keyed by scene id):
kept on the coordinator as Citus local tables, which join freely with reference tables.
Distributing them means adding ``title_id`` to their primary keys (docs/scaling.md)."""


@dataclass
class DistributeReport:
    available: bool
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def citus_available(conn: Connection) -> bool:
    return bool(
        conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'citus'")).first()
    )


def distribute(conn: Connection) -> DistributeReport:
    """Create the extension and distribute the tables (already distributed ones are skipped).
    Without the ``citus`` extension, does nothing and says so (``available`` False)."""
    if not citus_available(conn):
        return DistributeReport(available=False)
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS citus"))
    already = set(
        conn.execute(text("SELECT logicalrelid::regclass::text FROM pg_dist_partition")).scalars()
    )
    report = DistributeReport(available=True)
    for table in REFERENCE_TABLES:
        if table in already:
            report.skipped.append(table)
            continue
        conn.execute(text("SELECT create_reference_table(:t)"), {"t": table})
        report.done.append(f"{table}: reference table")
    for table in COORDINATOR_TABLES:
        if table in already:
            report.skipped.append(table)
            continue
        conn.execute(text("SELECT citus_add_local_table_to_metadata(:t)"), {"t": table})
        report.done.append(f"{table}: local table on the coordinator")
    first = DISTRIBUTED_TABLES[0]
    for table in DISTRIBUTED_TABLES:
        if table in already:
            report.skipped.append(table)
            continue
        conn.execute(
            text("SELECT create_distributed_table(:t, :col, colocate_with => :with)"),
            {
                "t": table,
                "col": DISTRIBUTION_COLUMN,
                "with": "default" if table == first else first,
            },
        )
        report.done.append(f"{table}: distributed by {DISTRIBUTION_COLUMN}")
    return report
