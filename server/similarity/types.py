"""GraphQL types of similar titles and title search: thin, built from service results."""

from __future__ import annotations

import strawberry

from server.catalog.types import Title, TitleFilter, TitleTag, title_reads
from server.embeddings.facets import DEFAULT_WEIGHTS, FacetWeights
from server.kit.resolving.context import Info
from server.kit.resolving.errors import bad_input
from server.kit.resolving.selection import names, under
from server.models.catalog import CreditRole
from server.similarity import service
from server.similarity.loaders import SimilarityLoaders
from server.similarity.service import SearchMode, SimilarityMode

strawberry.enum(CreditRole, name="CreditRole", description="How a person is credited on a title.")

DEFAULT_FIRST = 10

strawberry.enum(
    SearchMode,
    name="SearchMode",
    description=(
        "KEYWORD: full text over name and synopsis plus typo-tolerant (trigram) name matching. "
        "SEMANTIC: the query's text embedding against each title's synopsis embedding. "
        "HYBRID: reciprocal-rank fusion of both lists."
    ),
)


strawberry.enum(
    SimilarityMode,
    name="SimilarityMode",
    description=(
        "CONTENT: what titles are about and who made them (weighted facet cosines). "
        "COMPARABLES: who watches them (learned comparables: the cosine of audience profiles, "
        "observed or predicted from content)."
    ),
)


@strawberry.input(
    description=(
        "Relative weights of the four facets in a similarity score (only their ratios "
        "matter). Each must be >= 0 and at least one > 0. Defaults: synopsis 0.5, tags 0.3, "
        "metadata 0.2, people 0 (see README, people facet)."
    )
)
class FacetWeightsInput:
    synopsis: float = strawberry.field(
        default=DEFAULT_WEIGHTS.synopsis, description="Synopsis text (raw and genre-projected)."
    )
    tags: float = strawberry.field(default=DEFAULT_WEIGHTS.tags, description="Tags and genres.")
    metadata: float = strawberry.field(
        default=DEFAULT_WEIGHTS.metadata,
        description="Kind, era, origin, language, maturity, length.",
    )
    people: float = strawberry.field(
        default=DEFAULT_WEIGHTS.people,
        description=(
            "Cast and directors, idf-weighted (a name on 40 titles counts less than one on 3)."
        ),
    )

    def to_service(self) -> FacetWeights:
        try:
            return FacetWeights(self.synopsis, self.tags, self.metadata, self.people)
        except ValueError as exc:
            raise bad_input(str(exc), "weights") from None


@strawberry.type(description="Cosine similarity (-1..1) of two titles on each facet.")
class FacetScores:
    synopsis: float
    tags: float
    metadata: float
    people: float = strawberry.field(
        description="Cosine of the people facets; 0 when either title shares no credited name."
    )


@strawberry.type(description="A person credited on both titles.")
class SharedPerson:
    name: str
    roles: list[CreditRole] = strawberry.field(
        description="Roles held on both titles (or on either, when none is common)."
    )
    weight: float = strawberry.field(
        description="idf of the name in the catalog: log(titles / titles crediting it)."
    )


@strawberry.type(description="Why two titles are similar.")
class SimilarityExplanation:
    shared_tags: list[TitleTag] = strawberry.field(
        description=(
            "Tags (genres included) both titles carry, strongest first; weight is the "
            "smaller of the two titles' weights."
        )
    )
    shared_people: list[SharedPerson] = strawberry.field(
        description="Cast and directors credited on both titles, rarest in the catalog first."
    )
    facet_scores: FacetScores


@strawberry.type(description="A title similar to another, with why.")
class SimilarTitle:
    title: Title
    score: float = strawberry.field(
        description=(
            "Cosine similarity (-1..1, higher is closer). CONTENT: the weighted mean of the "
            "facet scores under the requested weights; COMPARABLES: the cosine of the two "
            "titles' audience profiles (predicted audience overlap)."
        )
    )
    neighbour: strawberry.Private[service.Neighbour]

    @strawberry.field
    def explanation(self) -> SimilarityExplanation:
        # Built only when selected, from what the service read for it (``explain``).
        n = self.neighbour
        if n.facets is None or n.shared_tags is None or n.shared_people is None:
            raise RuntimeError("the explanation was not read: the selection said it was not")
        return SimilarityExplanation(
            shared_tags=[
                TitleTag(kind=t.kind, name=t.name, weight=t.weight) for t in n.shared_tags
            ],
            shared_people=[
                SharedPerson(name=p.name, roles=p.roles, weight=p.weight) for p in n.shared_people
            ],
            facet_scores=FacetScores(
                synopsis=n.facets.synopsis,
                tags=n.facets.tags,
                metadata=n.facets.metadata,
                people=n.facets.people,
            ),
        )

    @classmethod
    def from_service(cls, n: service.Neighbour) -> SimilarTitle:
        return cls(title=Title.from_model(n.title), score=n.score, neighbour=n)


def neighbour_reads(info: Info) -> tuple[bool, frozenset[str]]:
    """(whether ``explanation`` is selected, the title columns selected) under a field that
    returns ``[SimilarTitle]``."""
    items = under(info.selected_fields, info.field_name)
    return "explanation" in names(items), title_reads(under(items, "title")).columns


@strawberry.type(description="A search result.")
class SearchHit:
    title: Title
    score: float = strawberry.field(
        description=(
            "KEYWORD: name similarity (0..1) plus half the full-text rank; SEMANTIC: cosine "
            "similarity; HYBRID: sum over both lists of 1 / (60 + rank)."
        )
    )
    keyword_rank: int | None = strawberry.field(
        description="1-based rank in the keyword list; null when not in it (or not searched)."
    )
    semantic_rank: int | None = strawberry.field(
        description="1-based rank in the semantic list; null when not in it (or not searched)."
    )


async def similar_titles(
    info: Info,
    title_id: int,
    first: int | None,
    filter: TitleFilter | None,
    weights: FacetWeightsInput | None,
    mode: SimilarityMode = SimilarityMode.CONTENT,
) -> list[SimilarTitle]:
    size = service.check_first(first, DEFAULT_FIRST)
    facet_weights = weights.to_service() if weights else DEFAULT_WEIGHTS
    flt = filter.to_service() if filter else None
    explain, columns = neighbour_reads(info)
    rows = await info.context.db(
        lambda s: service.similar_titles(
            s, title_id, size, flt, facet_weights, mode, explain=explain, columns=columns
        )
    )
    return [SimilarTitle.from_service(n) for n in rows]


async def similar_of_title(info: Info, title_id: int, first: int | None) -> list[SimilarTitle]:
    size = service.check_first(first, DEFAULT_FIRST)
    explain, _ = neighbour_reads(info)
    rows = await info.context.loaders(SimilarityLoaders).similar.load((title_id, size, explain))
    return [SimilarTitle.from_service(n) for n in rows]


async def search_titles(
    info: Info,
    query: str,
    mode: SearchMode | None,
    first: int | None,
    filter: TitleFilter | None,
) -> list[SearchHit]:
    """Arguments left null take their defaults (HYBRID, 10)."""
    mode = mode or SearchMode.HYBRID
    size = service.check_first(first, DEFAULT_FIRST)
    cleaned = service.clean_query(query)
    flt = filter.to_service() if filter else None
    vector = (
        await service.embed_query(info.context.settings.embedder, cleaned)
        if mode is not SearchMode.KEYWORD
        else None
    )
    hits = await info.context.db(
        lambda s: service.search_titles(s, cleaned, mode, size, flt, vector)
    )
    return [
        SearchHit(
            title=Title.from_model(h.title),
            score=h.score,
            keyword_rank=h.keyword_rank,
            semantic_rank=h.semantic_rank,
        )
        for h in hits
    ]
