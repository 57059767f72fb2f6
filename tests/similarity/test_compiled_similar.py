"""``similarTitles`` compiled (``server.similarity.compiled``) answers exactly as graphql-core's
executor: the same JSON text (key order, scores to the last digit, nulls), also as the HTTP
layer gets it (``EncodedJson``), the same errors; what it does not support falls back. Same
harness as tests/graphql/test_compiled.py and test_encoded.py."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from server.config import Settings
from server.models.catalog import Title
from server.similarity.comparables.service import fit_comparables
from server.similarity.compiled import clamped
from server.similarity.service import _cosine
from tests.graphql.test_compiled import _answer
from tests.graphql.test_encoded import assert_compiled_as_executor, assert_same_text
from tests.helpers import acreate_titles, title_record
from tests.similarity.conftest import Embed
from tests.similarity.test_comparables import _world

EVERY = """id externalId kind name synopsis releaseYear dateAdded maturityRating durationMinutes
  seasons originalLanguage genres tags { kind name weight __typename } __typename"""
EXPLANATION = """__typename facetScores { synopsis tags metadata people __typename }
  sharedTags { kind name weight __typename } sharedPeople { name roles weight __typename }"""
SIMILAR = "query($id: ID!) {{ similarTitles(titleId: $id{args}) {{ {sel} }} }}"


def similar(sel: str, args: str = "") -> str:
    return SIMILAR.format(args=args, sel=sel)


CAST_TOO = {1: ["Jo Kim"], 2: ["Ana Rivera"]}
"""Directors acting too: roles in common (Jo Kim on 1 and 2), or only different ones (Ana
Rivera directing 0, acting in 2)."""

# (query, variables); ``$id`` is a seeded title's id ("which": another one)
COMPILED: list[tuple[str, dict[str, Any]]] = [
    (similar("score title { id name }", ", first: 10"), {}),
    (similar(f"__typename score title {{ {EVERY} }}", ", first: 4"), {"which": 5}),
    (similar("s: score t: title { n: name k: kind i: id } s2: score", ", first: 3"), {}),
    (
        "query($id: ID!) { similarTitles(titleId: $id, first: 3) { ...S } }"
        " fragment S on SimilarTitle { score ... on SimilarTitle { title { ...T } } }"
        " fragment T on Title { name genres tags(kind: THEME) { name weight } }",
        {},
    ),
    (
        """query($id: ID!, $x: Boolean!) { similarTitles(titleId: $id, first: 3) {
           score @skip(if: $x) title @include(if: $x) { name } } }""",
        {"x": True},
    ),
    (
        """query($id: ID!, $x: Boolean!) { similarTitles(titleId: $id, first: 3) {
           score @skip(if: $x) title @include(if: $x) { name } } }""",
        {"x": False},
    ),
    (similar("score explanation { facetScores { tags } }", ", first: 3"), {}),
    (similar(f"score title {{ name }} explanation {{ {EXPLANATION} }}"), {}),
    (similar(f"explanation {{ {EXPLANATION} }}", ", weights: {people: 1}"), {"which": 5}),
    (
        similar(
            "e: explanation { p: sharedPeople { roles n: name } t: sharedTags { weight } }"
            " x: explanation { facetScores { people synopsis } }",
            ", first: 12",
        ),
        {"which": 3},
    ),
    (similar("score"), {}),
    (similar("score", ", first: null"), {}),
    (similar("score title { id }", ", first: 500"), {}),
    (similar("score title { name kind }", ", filter: {kind: SHOW}"), {}),
    (similar("score title { name genres }", ', filter: {genres: ["dramas"]}'), {}),
    (similar("score title { name }", ', filter: {originCountries: ["us"]}'), {}),
    (similar("score title { name }", ', filter: {text: "harbours"}'), {}),
    (similar("score title { name }", ", filter: {releaseYearMin: 3000}"), {}),  # none: []
    (
        similar(
            "score title { name releaseYear }",
            ", filter: {releaseYearMin: 1990, releaseYearMax: 2030, kind: MOVIE}",
        ),
        {},
    ),
    (similar("score title { name }", ", weights: {synopsis: 1, tags: 0, metadata: 0}"), {}),
    (similar("score title { name }", ", weights: {people: 1, synopsis: 0}"), {}),
    (similar("score title { name }", ", weights: {tags: 2}, mode: CONTENT"), {}),
    (
        """query($id: ID!, $f: TitleFilter, $w: FacetWeightsInput, $n: Int) {
           a: similarTitles(titleId: $id, first: $n, filter: $f, weights: $w) { score }
           b: similarTitles(titleId: $id, first: 2) { title { id } }
           t: title(id: $id) { name } p: titles(first: 2) { totalCount } __typename }""",
        {"f": {"genres": ["Comedies"]}, "w": {"metadata": 1}, "n": 4},
    ),
]

FALLBACK: list[tuple[str, dict[str, Any]]] = [
    ('{ similarTitles(titleId: "999999999") { score } }', {}),  # ran, null: the executor says
    ('{ similarTitles(titleId: "abc") { score } }', {}),
    (similar("score", ", first: 0"), {}),
    (similar("score", ", first: 501"), {}),
    (similar("score", ", weights: {synopsis: 0, tags: 0, metadata: 0, people: 0}"), {}),
    (similar("score", ", weights: {synopsis: -1}"), {}),
    (similar("score title { name cast }"), {}),
    (similar("score title { name similar { score } }"), {}),
    (similar("score", ", mode: COMPARABLES"), {}),  # no comparables vector: NOT_FOUND
    (
        "query($id: ID!, $f: TitleFilter) { similarTitles(titleId: $id, filter: $f) { score } }",
        {"f": {"genres": ["a\x00"]}},
    ),
    (similar("score"), {"which": "new"}),  # a title without an embedding
]


async def _seed(aconn: AsyncConnection, embed: Embed) -> list[str]:
    await acreate_titles(
        aconn,
        *(
            title_record(
                external_id=f"cs{i}",
                name=f"Title {i}",
                kind="SHOW" if i % 3 == 0 else "MOVIE",
                synopsis=None if i == 4 else f"A story number {i} about harbours and storms.",
                seasons=2 if i % 3 == 0 else None,
                release_year=1990 + i,
                duration_minutes=None if i % 3 == 0 else 90 + i,
                genres=["Dramas", "Crime TV Shows"] if i % 2 else ["Comedies"],
                tags=[
                    {"kind": "THEME", "name": f"theme {i % 3}", "weight": 0.5 + i / 100},
                    {"kind": "MOOD", "name": "warm", "weight": 1.0},
                ],
                origin_countries=["US"] if i % 4 else ["GB"],
                cast=[f"Actor {i % 4}", "Everyone", *CAST_TOO.get(i % 5, ())],
                directors=["Jo Kim"] if i % 5 else ["Ana Rivera"],
            )
            for i in range(12)
        ),
    )
    await embed()
    # embedded before: no vector
    await acreate_titles(aconn, title_record(external_id="cs-new", name="Late"))
    rows = await aconn.execute(select(Title.id).where(Title.external_id.like("cs%")))
    return sorted(str(i) for (i,) in rows)


def _variables(given: dict[str, Any], ids: list[str], late: str) -> dict[str, Any]:
    which = given.get("which", 1)
    out = {"id": late if which == "new" else ids[which]}
    out.update({k: v for k, v in given.items() if k != "which"})
    return out


async def _late_id(aconn: AsyncConnection) -> str:
    found = await aconn.scalar(select(Title.id).where(Title.external_id == "cs-new"))
    return str(found)


async def test_compiled_similar_titles_answer_as_the_executor(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    aconn: AsyncConnection,
    embed: Embed,
    executed: list[str],
) -> None:
    ids = await _seed(aconn, embed)
    late = await _late_id(aconn)
    nonempty = 0
    for query, variables in COMPILED:
        given = _variables(variables, ids, late)
        data = await assert_compiled_as_executor(settings, session_factory, executed, query, given)
        nonempty += "[{" in data.replace(" ", "")
    assert nonempty >= len(COMPILED) - 2


@dataclass
class BothPaths:
    """A query answered by the executor, then by the compiled path (which must not fall
    back): both answers, which must be equal."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    executed: list[str]

    async def answer(self, query: str, variables: dict[str, Any]) -> str:
        sessions = self.session_factory
        expected = await _answer(self.settings, sessions, query, variables, compiled=False)
        got = await _answer(self.settings, sessions, query, variables, compiled=True)
        assert self.executed == ["executor"], query
        self.executed.clear()
        assert got == expected, query
        return got[0]


@pytest.fixture
def both(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    executed: list[str],
) -> BothPaths:
    return BothPaths(settings, session_factory, executed)


async def test_compiled_shared_people_have_the_executors_roles(
    both: BothPaths, aconn: AsyncConnection, embed: Embed
) -> None:
    await _seed(aconn, embed)
    query = similar(
        "title { externalId } explanation { sharedPeople { name roles } }", ", first: 12"
    )
    roles: dict[tuple[str, str], list[list[str]]] = {}
    for source in ("cs0", "cs1"):
        found = await aconn.scalar(select(Title.id).where(Title.external_id == source))
        answer = await both.answer(query, {"id": str(found)})
        for item in json.loads(answer)["similarTitles"]:
            for person in item["explanation"]["sharedPeople"]:
                roles.setdefault((source, person["name"]), []).append(person["roles"])
    assert ["CAST", "DIRECTOR"] in roles[("cs0", "Ana Rivera")]  # directs one, acts in other
    assert ["DIRECTOR"] in roles[("cs1", "Jo Kim")]  # both: the roles in common
    assert ["CAST", "DIRECTOR"] in roles[("cs1", "Jo Kim")]


async def test_unsupported_similar_titles_fall_back(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    aconn: AsyncConnection,
    embed: Embed,
    executed: list[str],
) -> None:
    ids = await _seed(aconn, embed)
    late = await _late_id(aconn)
    errors = 0
    for query, variables in FALLBACK:
        given = _variables(variables, ids, late)
        expected = await _answer(settings, session_factory, query, given, compiled=False)
        got = await _answer(settings, session_factory, query, given, compiled=True)
        assert executed == ["executor", "executor"], query
        executed.clear()
        assert got == expected, query
        errors += bool(expected[1])
    assert errors >= 9


async def test_compiled_comparables_mode_answers_as_the_executor(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    aconn: AsyncConnection,
    embed: Embed,
    executed: list[str],
) -> None:
    ids = await _world(aconn, embed)

    def fit(conn: Connection) -> object:
        return fit_comparables(conn)

    await aconn.run_sync(fit)
    query = """query($id: ID!) { similarTitles(titleId: $id, first: 5, mode: COMPARABLES) {
        score title { name originalLanguage }
        explanation { facetScores { synopsis people } sharedTags { name } } } }"""
    for source in ("k-new", "u1", "k0"):
        given = {"id": str(ids[source])}
        expected = await _answer(settings, session_factory, query, given, compiled=False)
        got = await _answer(settings, session_factory, query, given, compiled=True)
        assert executed == ["executor"], expected
        executed.clear()
        assert got == expected
        assert '"score"' in got[0]


TITLE_LEAVES = [
    "id",
    "externalId",
    "kind",
    "name",
    "synopsis",
    "releaseYear",
    "durationMinutes",
    "seasons",
    "genres",
    "__typename",
    "tags { name weight kind }",
    "moods: tags(kind: MOOD) { weight }",
]
FILTERS = [
    'genres: ["dramas"]',
    'originCountries: ["GB", "us"]',
    "releaseYearMin: 1995",
    "releaseYearMax: 1999",
    'text: "story"',
    "kind: MOVIE",
]
WEIGHTS = ["synopsis: 1", "tags: 0.7", "metadata: 0.1", "people: 0.5"]
EXPLAINING = [
    "facetScores { synopsis tags }",
    "facetScores { people metadata __typename }",
    "sharedTags { name kind }",
    "sharedTags { weight __typename }",
    "sharedPeople { weight name }",
    "sharedPeople { roles __typename }",
    "__typename",
]


def _random_query(rng: random.Random, ids: list[str]) -> str:
    roots = []
    for i in range(rng.randint(1, 2)):
        args = [f'titleId: "{rng.choice(ids)}"', f"first: {rng.randint(1, 6)}"]
        if rng.random() < 0.4:
            args.append("filter: {" + ", ".join(rng.sample(FILTERS, rng.randint(1, 2))) + "}")
        if rng.random() < 0.4:
            args.append("weights: {" + ", ".join(rng.sample(WEIGHTS, rng.randint(1, 3))) + "}")
        leaves = rng.sample(TITLE_LEAVES, rng.randint(1, 5))
        title = " ".join(
            f"a{j}: {f}" if rng.random() < 0.3 and not f.startswith("moods:") else f
            for j, f in enumerate(leaves)
        )
        explaining = " ".join(
            f"a{j}: {f}" if rng.random() < 0.3 else f
            for j, f in enumerate(rng.sample(EXPLAINING, rng.randint(1, 3)))
        )
        items = rng.choice(
            [
                f"score title {{ {title} }}",
                f"title {{ {title} }} score",
                "score",
                "__typename",
                f"explanation {{ {explaining} }} score",
                f"title {{ {title} }} explanation {{ {explaining} }}",
            ]
        )
        roots.append(f"r{i}: similarTitles({', '.join(args)}) {{ {items} }}")
    return "{ " + " ".join(roots) + " }"


async def test_random_similar_selections_answer_as_the_executor(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    aconn: AsyncConnection,
    embed: Embed,
    executed: list[str],
) -> None:
    ids = (await _seed(aconn, embed))[:12]
    rng = random.Random(15)
    for _ in range(60):
        query = _random_query(rng, ids)
        expected = await _answer(settings, session_factory, query, {}, compiled=False)
        assert executed == ["executor"], expected
        executed.clear()
        got = await _answer(settings, session_factory, query, {}, compiled=True)
        assert got == expected, query
        assert not expected[1], (query, expected[1])
        assert executed == [], query
        await assert_same_text(settings, session_factory, query, {})
        executed.clear()


async def test_clamped_scores_are_the_services(aconn: AsyncConnection) -> None:
    values = [float("nan"), 1.0000001, -1.5, 0.25, -0.0, 1.0, float("inf")]
    for value in values:
        sql = f"SELECT {clamped('%(v)s::float8')}"
        result = await aconn.exec_driver_sql(sql, {"v": value})
        assert result.scalar_one() == _cosine(value), value
