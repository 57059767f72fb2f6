"""GraphQL types of scenes and engagement: thin, built from ``server.scenes.service`` results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from server.kit.ids import parse_id
from server.kit.resolving.context import Info
from server.kit.resolving.errors import bad_input
from server.scenes import service
from server.scenes.loaders import SceneLoaders
from server.scenes.service import SceneMetric, SceneRow

if TYPE_CHECKING:
    from server.catalog.types import Title

strawberry.enum(
    SceneMetric,
    name="SceneMetric",
    description=(
        "What to rank scenes by (highest first). ENGAGEMENT: the engagement score (see "
        "Scene.score); PLAYS; WATCHED_FRACTION; REWATCH_RATE; SKIP_RATE; EXIT_RATE."
    ),
)

DEFAULT_SCENES = 100


@strawberry.type(
    description=(
        "A scene of a movie or of a show's episode, with its engagement (all regions, or the "
        "region asked for in `topScenes`). Metrics are null when no engagement was ingested."
    )
)
class Scene:
    id: strawberry.ID
    title_id: strawberry.Private[int]
    ordinal: int = strawberry.field(description="Position in the movie or episode, from 1.")
    episode: int | None = strawberry.field(description="Episode number; null for a movie.")
    start: float = strawberry.field(description="Start, in seconds from the beginning.")
    end: float = strawberry.field(description="End, in seconds from the beginning.")
    description: str | None
    tags: list[str] = strawberry.field(
        description="Scene tags (kind SCENE), e.g. action, dialogue, reveal, cliffhanger, recap."
    )
    characters: list[str] = strawberry.field(description="Characters in the scene, where known.")
    people: list[str] = strawberry.field(description="Cast members in the scene, where known.")
    region: str | None = strawberry.field(
        description="Region of the metrics (ISO 3166-1 alpha-2); null = all regions."
    )
    score: float | None = strawberry.field(
        description=(
            "Engagement score: the weighted mean of the scene's watched fraction (1), rewatch "
            "rate (0.5), skip rate (-0.5) and exit rate (-1), each as a z-score among the same "
            "title's scenes in the same region. 0 = the title's typical scene; +1 = one "
            "standard deviation better."
        )
    )
    plays: int | None = strawberry.field(description="Viewers who reached the scene.")
    watched_fraction: float | None = strawberry.field(
        description="Average share of the scene watched by those who reached it (0..1)."
    )
    rewatch_rate: float | None = strawberry.field(
        description="Share of viewers who watched the scene again (0..1)."
    )
    skip_rate: float | None = strawberry.field(
        description="Share of viewers who skipped the scene (0..1)."
    )
    exit_rate: float | None = strawberry.field(
        description="Share of viewers at the scene's start who stopped watching during it (0..1)."
    )

    @classmethod
    def from_row(cls, row: SceneRow) -> Scene:
        return cls(
            id=strawberry.ID(str(row.id)),
            title_id=row.title_id,
            ordinal=row.ordinal,
            episode=row.episode,
            start=row.start,
            end=row.end,
            description=row.description,
            tags=row.tags,
            characters=row.characters,
            people=row.people,
            region=row.region,
            score=row.score,
            plays=row.plays,
            watched_fraction=row.watched_fraction,
            rewatch_rate=row.rewatch_rate,
            skip_rate=row.skip_rate,
            exit_rate=row.exit_rate,
        )

    @strawberry.field(description="The movie or show the scene belongs to.")
    async def title(
        self, info: Info
    ) -> Annotated[Title, strawberry.lazy("server.catalog.types")] | None:
        from server.catalog.types import title_by_id

        return await title_by_id(info, self.title_id)


@strawberry.type(description="A scene with a similarity score.")
class SceneHit:
    scene: Scene
    score: float = strawberry.field(description="Cosine similarity of the descriptions (-1..1).")


@strawberry.type(description="A point of a retention curve.")
class CurvePoint:
    second: int = strawberry.field(description="Seconds from the start.")
    share: float = strawberry.field(
        description="Share of the viewers who started that are still watching (0..1)."
    )


@strawberry.type(description="The scene that loses the largest share of starting viewers.")
class SceneDrop:
    scene: Scene
    drop: float = strawberry.field(
        description="Share of starting viewers lost during the scene (0..1)."
    )


@strawberry.type(description="The scene viewers rewatch most.")
class RewatchedScene:
    scene: Scene
    rewatch_rate: float


@strawberry.type(
    description=(
        "Per-title engagement summary, from the retention curve of the movie (or the show's "
        "first episode) and the scenes."
    )
)
class EngagementSummary:
    hook_strength: float | None = strawberry.field(
        description=(
            "Share of starting viewers still watching after the first 5% of the runtime "
            "(`hookSeconds`)."
        )
    )
    hook_seconds: int | None = strawberry.field(description="Where the hook is measured.")
    biggest_drop_off: SceneDrop | None = strawberry.field(
        description="The scene losing the largest share of starting viewers (not end credits)."
    )
    most_rewatched: RewatchedScene | None


@strawberry.type(description="How a kind of scene engages, across the catalog.")
class SceneTagLift:
    tag: str
    lift: float = strawberry.field(
        description=(
            "Mean engagement score of the tag's scenes: their lift over the typical scene of the "
            "same titles (whose score is 0), in within-title standard deviations."
        )
    )
    low: float = strawberry.field(
        description="Lower end of the 95% interval (cluster-robust by title, t quantile)."
    )
    high: float = strawberry.field(description="Upper end of the 95% interval.")
    scenes: int = strawberry.field(description="Scenes with the tag (and engagement).")
    titles: int = strawberry.field(description="Titles those scenes come from.")


# --- resolvers (called by the Title fields and the root Query) -----------------------------------


def _first(first: int | None, default: int) -> int:
    return service.check_first(first, default)


def _episode(episode: int | None) -> int | None:
    if episode is not None and episode < 1:
        raise bad_input(f"episode must be 1 or more, got {episode}", "episode")
    return episode


def parse_scene_id(value: strawberry.ID, field: str = "sceneId") -> int:
    return parse_id(value, "scene", field)


async def scenes_of_title(
    info: Info, title_id: int, first: int | None, episode: int | None
) -> list[Scene]:
    key = (title_id, _episode(episode), _first(first, DEFAULT_SCENES))
    rows = await info.context.loaders(SceneLoaders).of_title.load(key)
    return [Scene.from_row(r) for r in rows]


async def curve_of_title(
    info: Info,
    title_id: int,
    resolution_seconds: int | None,
    episode: int | None,
    region: str | None,
) -> list[CurvePoint]:
    if resolution_seconds is not None and not 1 <= resolution_seconds <= 3600:
        raise bad_input(
            f"resolutionSeconds must be 1..3600, got {resolution_seconds}", "resolutionSeconds"
        )
    key = (title_id, _episode(episode), service.check_region(region))
    curve = await info.context.loaders(SceneLoaders).curve.load(key)
    if curve is None:
        return []
    return [CurvePoint(second=s, share=v) for s, v in curve.resampled(resolution_seconds)]


async def summary_of_title(info: Info, title_id: int) -> EngagementSummary | None:
    summary = await info.context.loaders(SceneLoaders).summary.load(title_id)
    if summary is None:
        return None
    drop = summary.biggest_drop_off
    most = summary.most_rewatched
    return EngagementSummary(
        hook_strength=summary.hook_strength,
        hook_seconds=summary.hook_seconds,
        biggest_drop_off=SceneDrop(scene=Scene.from_row(drop.scene), drop=drop.drop)
        if drop
        else None,
        most_rewatched=RewatchedScene(scene=Scene.from_row(most), rewatch_rate=most.rewatch_rate)
        if most and most.rewatch_rate is not None
        else None,
    )


async def top_scenes(
    info: Info,
    title_id: int | None,
    metric: SceneMetric | None,
    first: int | None,
    region: str | None,
) -> list[Scene]:
    size = _first(first, 10)
    code = service.check_region(region)
    chosen = metric or SceneMetric.ENGAGEMENT
    rows = await info.context.db(lambda s: service.top_scenes(s, title_id, chosen, size, code))
    return [Scene.from_row(r) for r in rows]


async def scene_tag_lift(
    info: Info, first: int | None, min_scenes: int | None, region: str | None
) -> list[SceneTagLift]:
    size = _first(first, 20)
    code = service.check_region(region)
    minimum = 30 if min_scenes is None else min_scenes
    rows = await info.context.db(lambda s: service.scene_tag_lift(s, size, minimum, code))
    return [
        SceneTagLift(
            tag=r.tag, lift=r.lift, low=r.low, high=r.high, scenes=r.scenes, titles=r.titles
        )
        for r in rows
    ]


async def search_scenes(info: Info, query: str, first: int | None) -> list[SceneHit]:
    from server.similarity.service import embed_query

    size = _first(first, 10)
    cleaned = " ".join(query.split())
    if not cleaned:
        raise bad_input("query must not be empty", "query")
    name, vector = await embed_query(info.context.settings.embedder, cleaned)
    hits = await info.context.db(lambda s: service.search_scenes(s, name, vector, size))
    return [SceneHit(scene=Scene.from_row(h.scene), score=h.score) for h in hits]


async def similar_scenes(info: Info, scene_id: strawberry.ID, first: int | None) -> list[SceneHit]:
    number = parse_scene_id(scene_id)
    size = _first(first, 10)
    hits = await info.context.db(lambda s: service.similar_scenes(s, number, size))
    return [SceneHit(scene=Scene.from_row(h.scene), score=h.score) for h in hits]


async def scene_by_id(info: Info, scene_id: strawberry.ID) -> Scene | None:
    number = parse_scene_id(scene_id, "id")
    rows = await info.context.db(lambda s: service.scenes_by_ids(s, [number]))
    return Scene.from_row(rows[0]) if rows[0] else None
