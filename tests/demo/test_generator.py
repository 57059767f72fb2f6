"""Tests for the synthetic demo catalog generator (pure Python, no database)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from server.catalog.records import CANONICAL_FIELDS
from server.demo import generator, vocab
from server.demo.generator import (
    ARCHETYPES,
    ARCHETYPES_BY_KEY,
    generate_catalog,
    generate_catalog_with_archetypes,
    validate_archetypes,
    write_jsonl,
)
from server.kit.rng import sub_rng

Record = dict[str, object]

EXPECTED_KEYS = {
    "external_id",
    "kind",
    "name",
    "synopsis",
    "release_year",
    "date_added",
    "maturity_rating",
    "duration_minutes",
    "seasons",
    "original_language",
    "genres",
    "tags",
    "cast",
    "directors",
    "origin_countries",
}
RATINGS = {"TV-Y", "TV-Y7", "TV-G", "TV-PG", "TV-14", "TV-MA", "G", "PG", "PG-13", "R", "NR"}
TAG_KINDS = {"THEME", "MOOD", "SETTING", "AUDIENCE", "FORMAT"}
KIDS_RATINGS = {"TV-Y", "TV-Y7", "G", "PG"}
LANGUAGE_OF = {
    "US": {"en"},
    "GB": {"en"},
    "NG": {"en"},
    "KR": {"ko"},
    "JP": {"ja"},
    "ES": {"es"},
    "MX": {"es"},
    "AR": {"es"},
    "CO": {"es"},
    "BR": {"pt"},
    "FR": {"fr"},
    "DE": {"de"},
    "IT": {"it"},
    "TR": {"tr"},
    "EG": {"ar"},
    "TH": {"th"},
    "IN": {"hi", "ta", "te", "ml", "bn"},
}
ISO_ALPHA2 = re.compile(r"^[A-Z]{2}$")
ISO_639_1 = re.compile(r"^[a-z]{2}$")
EXTERNAL_ID = re.compile(r"^demo-\d{6}$")


@pytest.fixture(scope="module")
def pairs() -> list[tuple[Record, str]]:
    return generate_catalog_with_archetypes()


@pytest.fixture(scope="module")
def catalog(pairs: list[tuple[Record, str]]) -> list[Record]:
    return [record for record, _ in pairs]


def by_archetype(pairs: list[tuple[Record, str]]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for record, key in pairs:
        groups[key].append(record)
    return groups


def tag_names(record: Record, kind: str) -> set[str]:
    tags = record["tags"]
    assert isinstance(tags, list)
    return {t["name"] for t in tags if t["kind"] == kind}


def str_list(record: Record, key: str) -> list[str]:
    value = record[key]
    assert isinstance(value, list)
    assert all(isinstance(item, str) for item in value)
    return value


# -- determinism -----------------------------------------------------------------------------


def test_same_seed_same_catalog() -> None:
    assert generate_catalog(300, seed=7) == generate_catalog(300, seed=7)
    assert generate_catalog_with_archetypes(50, seed=7) == generate_catalog_with_archetypes(
        50, seed=7
    )


def test_default_catalog_is_reproducible(catalog: list[Record]) -> None:
    assert len(catalog) == 2400
    again = generate_catalog()
    assert json.dumps(again, ensure_ascii=False) == json.dumps(catalog, ensure_ascii=False)


def test_different_seed_different_catalog() -> None:
    first, second = generate_catalog(200, seed=1), generate_catalog(200, seed=2)
    assert first != second
    assert sum(a["name"] == b["name"] for a, b in zip(first, second, strict=True)) < 20


def test_shorter_catalog_is_a_prefix() -> None:
    assert generate_catalog(100, seed=5) == generate_catalog(400, seed=5)[:100]


def test_empty_and_negative() -> None:
    assert generate_catalog(0) == []
    with pytest.raises(ValueError, match="negative"):
        generate_catalog(-1)


def test_sub_rng_is_independent_and_stable() -> None:
    assert sub_rng(1, "charts").random() == sub_rng(1, "charts").random()
    assert sub_rng(1, "charts").random() != sub_rng(1, "scenes").random()


# -- record shape and value domains ----------------------------------------------------------


def test_exact_keys(catalog: list[Record]) -> None:
    assert EXPECTED_KEYS == CANONICAL_FIELDS, "the generator writes the canonical format"
    for record in catalog:
        assert set(record) == EXPECTED_KEYS
        assert "archetype" not in json.dumps(record)


def test_external_ids(catalog: list[Record]) -> None:
    ids = [record["external_id"] for record in catalog]
    assert len(set(ids)) == len(ids)
    assert all(isinstance(i, str) and EXTERNAL_ID.match(i) for i in ids)
    assert ids[0] == "demo-000001"


def test_kind_and_kind_dependent_fields(catalog: list[Record]) -> None:
    for record in catalog:
        duration, seasons = record["duration_minutes"], record["seasons"]
        if record["kind"] == "MOVIE":
            assert isinstance(duration, int)
            assert 45 <= duration <= 180
            assert seasons is None
        else:
            assert record["kind"] == "SHOW"
            assert duration is None
            assert isinstance(seasons, int)
            assert 1 <= seasons <= 8
    kinds = Counter(record["kind"] for record in catalog)
    assert 0.62 <= kinds["MOVIE"] / len(catalog) <= 0.78
    seasons = Counter(r["seasons"] for r in catalog if r["kind"] == "SHOW")
    assert seasons[1] + seasons[2] > sum(seasons.values()) / 2


def test_limited_series_have_one_season(catalog: list[Record]) -> None:
    for record in catalog:
        if tag_names(record, "FORMAT") & {"limited series", "miniseries"}:
            assert record["seasons"] == 1


def test_names_and_synopses(catalog: list[Record]) -> None:
    for record in catalog:
        name, synopsis = record["name"], record["synopsis"]
        assert isinstance(name, str)
        assert 0 < len(name) <= 120
        assert name == name.strip()
        assert isinstance(synopsis, str)
        assert 80 <= len(synopsis) <= 250
        assert synopsis[0].isupper()
        assert synopsis.endswith((".", "!", "?"))
        assert "{" not in name + synopsis
        assert "}" not in name + synopsis
        assert "  " not in synopsis


def test_uniqueness_ratios(catalog: list[Record]) -> None:
    names = [record["name"] for record in catalog]
    synopses = [record["synopsis"] for record in catalog]
    assert len(set(names)) / len(names) >= 0.97
    assert len(set(synopses)) / len(synopses) >= 0.95


def test_disambiguated_names_use_words_not_numbers(catalog: list[Record]) -> None:
    for record in catalog:
        assert not re.search(r"\(\d+\)$|\s\d+$", str(record["name"]))


def test_years_and_dates(catalog: list[Record]) -> None:
    years = []
    for record in catalog:
        year = record["release_year"]
        assert isinstance(year, int)
        assert 1970 <= year <= 2026
        years.append(year)
        added = record["date_added"]
        if added is not None:
            assert isinstance(added, str)
            assert re.match(r"^\d{4}-\d{2}-\d{2}$", added)
            day = date.fromisoformat(added)
            assert date(2015, 1, 1) <= day <= date(2026, 10, 31)
            assert day >= date(year, 1, 1)
    assert sum(y >= 2015 for y in years) / len(years) > 0.6  # skewed recent
    assert any(y < 1990 for y in years)
    assert sum(r["date_added"] is None for r in catalog) < len(catalog) * 0.1


def test_ratings(catalog: list[Record]) -> None:
    movies = [r for r in catalog if r["kind"] == "MOVIE"]
    for record in catalog:
        assert record["maturity_rating"] in RATINGS
        if record["kind"] == "SHOW":
            assert str(record["maturity_rating"]).startswith("TV-")
    film_scale = sum(r["maturity_rating"] in vocab.MPAA_RATINGS for r in movies)
    assert film_scale / len(movies) >= 0.65


def test_kids_titles_get_kids_ratings(pairs: list[tuple[Record, str]]) -> None:
    kids = 0
    for record, key in pairs:
        if ARCHETYPES_BY_KEY[key].audience == "kids" or "kids" in tag_names(record, "AUDIENCE"):
            kids += 1
            assert record["maturity_rating"] in KIDS_RATINGS
    assert kids > 50


def test_languages_and_countries(catalog: list[Record]) -> None:
    for record in catalog:
        countries = str_list(record, "origin_countries")
        assert 1 <= len(countries) <= 2
        assert len(set(countries)) == len(countries)
        assert all(ISO_ALPHA2.match(code) for code in countries)
        language = record["original_language"]
        assert isinstance(language, str)
        assert ISO_639_1.match(language)
        expected = LANGUAGE_OF.get(countries[0])
        if expected is not None:
            assert language in expected, (countries, language)
    first = Counter(str_list(r, "origin_countries")[0] for r in catalog)
    assert first.most_common(1)[0][0] == "US"
    assert 0.25 <= first["US"] / len(catalog) <= 0.45
    assert len(first) >= 20


def test_genres(catalog: list[Record]) -> None:
    for record in catalog:
        genres = str_list(record, "genres")
        assert 1 <= len(genres) <= 3
        assert len(set(genres)) == len(genres)
        allowed = vocab.MOVIE_GENRES if record["kind"] == "MOVIE" else vocab.SHOW_GENRES
        assert set(genres) <= set(allowed)
        international = vocab.INTERNATIONAL_GENRE[str(record["kind"])]
        is_us = str_list(record, "origin_countries")[0] == "US"
        assert (international in genres) == (not is_us)


def test_tags(catalog: list[Record]) -> None:
    for record in catalog:
        tags = record["tags"]
        assert isinstance(tags, list)
        assert 2 <= len(tags) <= 6
        seen = set()
        for tag in tags:
            assert set(tag) == {"kind", "name", "weight"}
            assert tag["kind"] in TAG_KINDS
            assert tag["name"] in vocab.TAG_VOCABULARY[tag["kind"]]
            weight = tag["weight"]
            assert isinstance(weight, float)
            assert 0 < weight <= 1
            assert round(weight, 2) == weight
            seen.add((tag["kind"], tag["name"]))
        assert len(seen) == len(tags)


def test_people(catalog: list[Record]) -> None:
    appearances: Counter[str] = Counter()
    for record in catalog:
        cast, directors = str_list(record, "cast"), str_list(record, "directors")
        assert 0 <= len(cast) <= 8
        assert len(set(cast)) == len(cast)
        assert 0 <= len(directors) <= 2
        assert len(set(directors)) == len(directors)
        appearances.update(cast + directors)
    assert 1000 <= len(appearances) <= 2500
    recurring = sum(1 for count in appearances.values() if count > 1)
    assert recurring / len(appearances) > 0.5
    assert appearances.most_common(1)[0][1] < 100  # prolific, not omnipresent
    movies = [r for r in catalog if r["kind"] == "MOVIE"]
    shows = [r for r in catalog if r["kind"] == "SHOW"]
    assert sum(len(str_list(r, "directors")) == 1 for r in movies) / len(movies) > 0.75
    assert sum(len(str_list(r, "directors")) == 0 for r in shows) / len(shows) > 0.4


def test_write_jsonl_round_trip(tmp_path: Path) -> None:
    records = generate_catalog(120, seed=11)
    path = tmp_path / "demo.jsonl"
    assert write_jsonl(records, path) == 120
    raw = path.read_bytes().decode("utf-8")
    lines = raw.splitlines()
    assert len(lines) == 120
    assert raw.endswith("\n")
    assert [json.loads(line) for line in lines] == records
    accented = [
        r
        for r in generate_catalog()
        if re.search(r"[^\x00-\x7f]", json.dumps(r, ensure_ascii=False))
    ]
    assert accented  # accents exist and are written unescaped
    write_jsonl(accented[:1], path)
    assert "\\u" not in path.read_text(encoding="utf-8")


def test_records_pass_the_canonical_validator(catalog: list[Record]) -> None:
    records = pytest.importorskip("server.catalog.records")
    validator = records.RecordValidator()
    for line, record in enumerate(catalog, start=1):
        result = validator.validate(dict(record), line)
        assert not result.errors, result.errors
        assert not result.warnings, result.warnings


# -- archetypes and latent structure ---------------------------------------------------------


def test_archetype_table_is_consistent() -> None:
    assert validate_archetypes() == []
    assert 25 <= len(ARCHETYPES) <= 40
    assert len(ARCHETYPES_BY_KEY) == len(ARCHETYPES)
    assert {a.kind for a in ARCHETYPES} == {"MOVIE", "SHOW"}


def test_validate_archetypes_reports_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = dataclasses.replace(
        ARCHETYPES[0],
        genres=("Reality TV",),
        ratings=(("TV-MA", 1.0),),
        title_patterns=("{nonsense}",),
    )
    monkeypatch.setattr(generator, "ARCHETYPES", (broken,))
    problems = "\n".join(validate_archetypes())
    assert "not a MOVIE genre" in problems
    assert "{nonsense}" in problems


def test_every_archetype_is_used(pairs: list[tuple[Record, str]]) -> None:
    counts = Counter(key for _, key in pairs)
    assert set(counts) == set(ARCHETYPES_BY_KEY)
    assert min(counts.values()) >= 10


def test_records_follow_their_archetype(pairs: list[tuple[Record, str]]) -> None:
    on_archetype = total = 0
    for record, key in pairs:
        arch = ARCHETYPES_BY_KEY[key]
        assert record["kind"] == arch.kind
        assert str_list(record, "genres")[0] == arch.genres[0]
        assert str_list(record, "origin_countries")[0] in dict(arch.countries)
        favoured = {(t.kind, t.name) for t in arch.tags}
        for tag in record["tags"]:  # type: ignore[attr-defined]
            total += 1
            on_archetype += (tag["kind"], tag["name"]) in favoured
    off = 1 - on_archetype / total
    assert 0.05 <= off <= 0.2  # noisy, but not too noisy


def test_coming_of_age_comedies(pairs: list[tuple[Record, str]]) -> None:
    titles = by_archetype(pairs)["coming_of_age_comedy"]
    assert len(titles) >= 50
    themed = sum("coming-of-age" in tag_names(r, "THEME") for r in titles)
    comic = sum("Comedies" in str_list(r, "genres") for r in titles)
    assert themed / len(titles) >= 0.8
    assert comic / len(titles) >= 0.95
    assert all(r["kind"] == "MOVIE" for r in titles)


def test_korean_archetypes(pairs: list[tuple[Record, str]]) -> None:
    groups = by_archetype(pairs)
    for key in ("korean_crime_thriller", "korean_romcom"):
        titles = groups[key]
        assert len(titles) >= 20
        for record in titles:
            assert str_list(record, "origin_countries")[0] == "KR"
            assert record["original_language"] == "ko"
            assert "Korean TV Shows" in str_list(record, "genres")
    thrillers = groups["korean_crime_thriller"]
    dark = sum(bool(tag_names(r, "MOOD") & {"dark", "suspenseful"}) for r in thrillers)
    assert dark / len(thrillers) >= 0.8


def test_single_country_archetypes(pairs: list[tuple[Record, str]]) -> None:
    expected = {
        "shonen_anime_series": ("JP", "ja"),
        "anime_adventure_feature": ("JP", "ja"),
        "turkish_romance_drama": ("TR", "tr"),
        "nollywood_family_drama": ("NG", "en"),
        "filipino_romance": ("PH", None),
    }
    groups = by_archetype(pairs)
    for key, (country, language) in expected.items():
        for record in groups[key]:
            assert str_list(record, "origin_countries")[0] == country
            if language:
                assert record["original_language"] == language


def test_kids_and_docs_archetypes(pairs: list[tuple[Record, str]]) -> None:
    groups = by_archetype(pairs)
    for key in ("kids_animal_adventure", "preschool_animation", "kids_action_cartoon"):
        for record in groups[key]:
            assert record["maturity_rating"] in KIDS_RATINGS
            assert not tag_names(record, "MOOD") & vocab.NOT_FOR_KIDS
    for record in groups["true_crime_docuseries"]:
        assert record["kind"] == "SHOW"
        assert "Docuseries" in str_list(record, "genres")
    for record in groups["standup_special"]:
        assert str_list(record, "genres")[0] == "Stand-Up Comedy"
        cast = str_list(record, "cast")
        assert len(cast) == 1
        assert cast[0] in str(record["synopsis"])


def test_archetypes_are_distinguishable_by_tags(pairs: list[tuple[Record, str]]) -> None:
    """A nearest-centroid classifier on genres and tags recovers most archetypes."""
    features: list[Counter[str]] = []
    for record, _ in pairs:
        feature: Counter[str] = Counter(f"G:{g}" for g in str_list(record, "genres"))
        for tag in record["tags"]:  # type: ignore[attr-defined]
            feature[f"{tag['kind']}:{tag['name']}"] += tag["weight"]
        features.append(feature)
    centroids: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter()
    for feature, (_, key) in zip(features, pairs, strict=True):
        centroids[key].update(feature)
        sizes[key] += 1

    def score(feature: Counter[str], key: str) -> float:
        centroid = centroids[key]
        return sum(value * centroid[name] / sizes[key] for name, value in feature.items())

    correct = sum(
        max(centroids, key=lambda k: score(feature, k)) == key
        for feature, (_, key) in zip(features, pairs, strict=True)
    )
    accuracy = correct / len(pairs)
    assert 0.6 <= accuracy < 1.0  # real structure, not trivially separable
