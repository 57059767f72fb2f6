"""topScenes reads the top of an index, for all regions and for one region."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.scenes import service
from tests.helpers import create_titles, title_record


def test_top_scenes_use_the_score_indexes(conn: Connection) -> None:
    create_titles(conn, title_record(external_id="ix1", duration_minutes=1000))
    conn.execute(
        text(
            "INSERT INTO scenes (title_id, ordinal, start_seconds, end_seconds, content_hash) "
            "SELECT (SELECT id FROM titles WHERE external_id = 'ix1'), g, g, g + 1, 'x' "
            "FROM generate_series(1, 20000) g"
        )
    )
    conn.execute(
        text(
            "INSERT INTO scene_engagement (scene_id, region, plays, watched_fraction, "
            "rewatch_rate, skip_rate, exit_rate, score) "
            "SELECT id, r, 1, 0.5, 0.5, 0.5, 0.5, random() "
            "FROM scenes, (VALUES (NULL), ('US'), ('BR')) v(r)"
        )
    )
    conn.execute(text("ANALYZE scene_engagement"))
    conn.execute(text("ANALYZE scenes"))
    metric = service.SceneMetric.ENGAGEMENT
    for by_region, index in (
        (False, "scene_engagement_all_regions_score_idx"),
        (True, "scene_engagement_region_score_idx"),
    ):
        sql = service.top_scenes_sql(metric, by_title=False, by_region=by_region)
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN " + sql), {"region": "US", "title_id": None, "first": 10}
            ).scalars()
        )
        assert index in plan, plan
        assert "Sort Key: e.score" not in plan, plan
