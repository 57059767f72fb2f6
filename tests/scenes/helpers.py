"""Helpers of the scene tests: titles, scenes and engagement through the real merge path."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from server.scenes.ingest import (
    load_scene_index,
    load_title_index,
    merge_engagement,
    merge_scenes,
    raw_rows,
    validate_engagement_rows,
    validate_scene_rows,
)


def scene(
    external_id: str, ordinal: int, start: float, end: float, **overrides: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": external_id,
        "ordinal": ordinal,
        "start": start,
        "end": end,
        "description": f"Scene {ordinal}: two friends talk in a kitchen.",
        "tags": ["dialogue"],
    }
    record.update(overrides)
    return record


def engagement(external_id: str, ordinal: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": external_id,
        "ordinal": ordinal,
        "plays": 1000,
        "watched_fraction": 0.9,
        "rewatch_rate": 0.02,
        "skip_rate": 0.02,
        "exit_rate": 0.01,
    }
    record.update(overrides)
    return record


def load_scenes(conn: Connection, *records: dict[str, Any], use_copy: bool = True) -> Any:
    batch = validate_scene_rows(raw_rows(records), load_title_index(conn))
    assert not batch.rejected, batch.rejected
    return merge_scenes(conn, batch.scenes, use_copy=use_copy)


def load_engagement(conn: Connection, *records: dict[str, Any], use_copy: bool = True) -> Any:
    batch = validate_engagement_rows(
        raw_rows(records), load_title_index(conn), load_scene_index(conn)
    )
    assert not batch.rejected, batch.rejected
    return merge_engagement(conn, batch.engagement, batch.curves, use_copy=use_copy)
