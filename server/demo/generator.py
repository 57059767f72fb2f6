"""A deterministic, synthetic streaming catalog for ``make demo`` and tests.

Every title is drawn from one of the micro-genre ``ARCHETYPES`` (defined with the word lists in
``server.demo.vocab``: "Korean Crime Thrillers", "Coming-of-age Comedies", ...). An archetype
fixes the kind, the likely genres,
tags, countries, ratings, era and runtime, and the vocabulary its names and synopses are
composed from, so the catalog has real latent structure for similarity and micro-genre work.
Roughly one tag or genre in eight is drawn off-archetype so the structure is not trivially
separable.

    records = generate_catalog(2400, seed=20261128)         # canonical JSONL dicts
    pairs = generate_catalog_with_archetypes(2400)           # (record, archetype key)
    write_jsonl(records, "demo.jsonl")

The same seed always yields the same records in the same order, and a shorter catalog is a
prefix of a longer one. Everything is drawn from one ``random.Random(seed)`` stream; features
that derive more data from the catalog (regional charts, scenes, ...) should take their own
stream from ``server.kit.rng.sub_rng(seed, "feature-name")`` so adding them never changes the
catalog.

Synopsis and name templates are ``str.format``-style strings whose ``{slot}`` fields are
filled from the archetype's ``slots``, from per-title context (``{city}``, ``{name}``,
``{lead}``, ``{country}``) and pronouns matching the protagonist (``{poss}``, ``{obj}``,
``{refl}``). A field ending in a digit (``{noun2}``) draws a different word from the same
list. Slot values may contain fields themselves.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from server.demo import vocab
from server.demo.vocab import (
    ARCHETYPES,
    ARCHETYPES_BY_KEY,
    FICTION_TEMPLATES,
    LAST_YEAR,
    Archetype,
    Gender,
    Protagonist,
    TagSpec,
)
from server.kit.rng import sub_rng

DEFAULT_TITLES: Final = 2400
DEFAULT_SEED: Final = 20261128
FIRST_YEAR: Final = 1970
FIRST_ADDED: Final = date(2015, 1, 1)
LAST_ADDED: Final = date(2026, 10, 31)
SYNOPSIS_MIN: Final = 80
SYNOPSIS_MAX: Final = 250
NAME_MAX: Final = 120

# Noise: how often a title picks up off-archetype genres and tags.
GENRE_NOISE: Final = 0.18
TAG_NOISE: Final = 0.45  # chance of one off-archetype tag (a second one at a fifth of that)


# Directors per title (P(0), P(1), P(2)) unless an archetype says otherwise, and seasons 1..8.
_MOVIE_DIRECTORS: Final = (0.03, 0.9, 0.07)
_SHOW_DIRECTORS: Final = (0.62, 0.32, 0.06)
_SEASON_WEIGHTS: Final = (40.0, 24.0, 12.0, 8.0, 6.0, 4.0, 3.0, 3.0)  # 1..8 seasons


# ============================================================================================
# Public API
# ============================================================================================


def generate_catalog(
    n_titles: int = DEFAULT_TITLES, seed: int = DEFAULT_SEED
) -> list[dict[str, object]]:
    """``n_titles`` canonical title records, the same for the same seed."""
    return [record for record, _ in generate_catalog_with_archetypes(n_titles, seed)]


def generate_catalog_with_archetypes(
    n_titles: int = DEFAULT_TITLES, seed: int = DEFAULT_SEED
) -> list[tuple[dict[str, object], str]]:
    """Like ``generate_catalog``, with the key of the archetype each record was drawn from."""
    if n_titles < 0:
        raise ValueError("n_titles must not be negative")
    generator = _CatalogGenerator(seed)
    return [generator.title(index) for index in range(n_titles)]


def write_jsonl(records: Iterable[Mapping[str, object]], path: str | os.PathLike[str]) -> int:
    """Writes one JSON object per line (UTF-8, unescaped) and returns the number written."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
            count += 1
    return count


def validate_archetypes() -> list[str]:
    """Problems in the archetype table (unknown genres, tags, countries, slots); [] if none."""
    problems: list[str] = []
    keys = [a.key for a in ARCHETYPES]
    if len(set(keys)) != len(keys):
        problems.append("duplicate archetype keys")
    for arch in ARCHETYPES:
        where = arch.key
        allowed = vocab.MOVIE_GENRES if arch.kind == "MOVIE" else vocab.SHOW_GENRES
        problems += [
            f"{where}: genre {g!r} is not a {arch.kind} genre"
            for g in arch.genres
            if g not in allowed
        ]
        for spec in arch.tags:
            if spec.name not in vocab.TAG_VOCABULARY.get(spec.kind, ()):
                problems.append(f"{where}: tag {spec.kind}/{spec.name} not in the vocabulary")
            if not 0 < spec.weight <= 1:
                problems.append(f"{where}: tag {spec.name} weight {spec.weight} out of (0, 1]")
        for code, _ in arch.countries:
            if code not in vocab.COUNTRY_LANGUAGES or code not in vocab.REGION_OF_COUNTRY:
                problems.append(f"{where}: country {code} has no language or name pool")
        for rating, _ in arch.ratings:
            if arch.kind == "SHOW" and rating not in vocab.TV_RATINGS:
                problems.append(f"{where}: show rating {rating} is not a TV rating")
            if arch.audience == "kids" and rating not in vocab.KIDS_RATINGS:
                problems.append(f"{where}: kids' rating {rating} is not for kids")
        texts = [
            *arch.synopsis_templates,
            *arch.title_patterns,
            *(p.text for p in arch.protagonists),
        ]
        texts += [value for values in arch.slots.values() for value in values]
        for text in texts:
            for name in _FIELD.findall(text):
                base = name.rstrip("0123456789")
                if base not in arch.slots and base not in _CONTEXT_FIELDS:
                    problems.append(f"{where}: unknown field {{{name}}} in {text!r}")
        uses_lead = any("{lead}" in t for t in (*arch.synopsis_templates, *arch.title_patterns))
        if uses_lead and arch.cast_size[0] < 1:
            problems.append(f"{where}: uses {{lead}} but may have no cast")
        if not arch.templates and not arch.protagonists:
            problems.append(f"{where}: fiction templates need protagonists")
    return problems


# ============================================================================================
# Generation
# ============================================================================================

_FIELD: Final = re.compile(r"\{(\w+)\}")
# Fields filled from the title itself rather than from the archetype's slots.
_CONTEXT_FIELDS: Final = frozenset(
    {
        "protagonist",
        "name",
        "city",
        "country",
        "lead",
        "first",
        "surname",
        "poss",
        "obj",
        "refl",
    }
)
_PRONOUNS: Final[dict[Gender, dict[str, str]]] = {
    "f": {"poss": "her", "obj": "her", "refl": "herself"},
    "m": {"poss": "his", "obj": "him", "refl": "himself"},
    "n": {"poss": "their", "obj": "them", "refl": "themselves"},
}
_SENTENCE_START: Final = re.compile(r"(^|[.!?]\s+)([a-z])")
_LIMITED_FORMATS: Final = frozenset({"limited series", "miniseries"})


class _Weighted:
    """Weighted choice over fixed options with precomputed cumulative weights."""

    __slots__ = ("cumulative", "options")

    def __init__(self, pairs: Iterable[tuple[str, float]]) -> None:
        options, weights = zip(*pairs, strict=True)
        self.options: tuple[str, ...] = tuple(options)
        self.cumulative: list[float] = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> str:
        return self.options[
            bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        ]


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    gender: Gender


class _PeoplePool:
    """Invented people of one region; a few are prolific, most appear once or twice."""

    def __init__(self, people: Sequence[_Person], skew: float = 0.6, offset: int = 30) -> None:
        self.people = tuple(people)
        weights = (1.0 / (rank + offset) ** skew for rank in range(len(people)))
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> _Person:
        at = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.people[min(at, len(self.people) - 1)]


def _invent_people(seed: int) -> tuple[dict[str, _PeoplePool], dict[str, _PeoplePool]]:
    """Cast and director pools per region; every invented name is unique across all pools."""
    rng = sub_rng(seed, "people")
    taken: set[str] = set()
    cast: dict[str, _PeoplePool] = {}
    directors: dict[str, _PeoplePool] = {}
    for region, size in vocab.CAST_POOL_SIZE.items():
        n_directors = max(6, size // 7)
        people: list[_Person] = []
        attempts = 0
        while len(people) < size + n_directors and attempts < 50 * (size + n_directors):
            attempts += 1
            gender: Gender = "f" if rng.random() < 0.5 else "m"
            first_names = vocab.FIRST_NAMES_F if gender == "f" else vocab.FIRST_NAMES_M
            first = rng.choice(first_names[region])
            last = rng.choice(vocab.SURNAMES[region])
            name = f"{last} {first}" if region in vocab.SURNAME_FIRST else f"{first} {last}"
            if name.casefold() in taken:
                continue
            taken.add(name.casefold())
            people.append(_Person(name, gender))
        cast[region] = _PeoplePool(people[:size])
        directors[region] = _PeoplePool(people[size:], skew=0.5, offset=10)
    return cast, directors


@dataclass(slots=True)
class _Draft:
    """The per-title state that name and synopsis templates read."""

    archetype: Archetype
    country: str
    city: str
    cast: list[_Person]
    protagonist: Protagonist | None = None
    hero_name: str = ""

    @property
    def gender(self) -> Gender:
        if self.protagonist is not None:
            return self.protagonist.gender
        return self.cast[0].gender if self.cast else "n"

    @property
    def region(self) -> str:
        return vocab.REGION_OF_COUNTRY[self.country]


class _CatalogGenerator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cast_pools, self.director_pools = _invent_people(seed)
        self.archetypes = _Weighted((a.key, a.share) for a in ARCHETYPES)
        self.countries = {a.key: _Weighted(a.countries) for a in ARCHETYPES}
        self.ratings = {a.key: _Weighted(a.ratings) for a in ARCHETYPES}
        self.languages = {c: _Weighted(p) for c, p in vocab.COUNTRY_LANGUAGES.items()}
        self.co_producers = vocab.CO_PRODUCERS
        self.seasons = _Weighted((str(n + 1), w) for n, w in enumerate(_SEASON_WEIGHTS))
        self.used_names: set[str] = set()

    # -- one title ----------------------------------------------------------------------------

    def title(self, index: int) -> tuple[dict[str, object], str]:
        rng = self.rng
        arch = ARCHETYPES_BY_KEY[self.archetypes.draw(rng)]
        countries = self._countries(arch)
        language = self.languages[countries[0]].draw(rng)
        release_year = self._release_year(arch)
        cast = self._cast(arch, countries)
        directors = self._directors(arch, countries)
        draft = _Draft(arch, countries[0], rng.choice(vocab.CITIES[countries[0]]), cast)
        if arch.protagonists:
            draft.protagonist = rng.choice(arch.protagonists)
            draft.hero_name = self._first_name(draft.region, draft.protagonist.gender)
        tags = self._tags(arch)
        record: dict[str, object] = {
            "external_id": f"demo-{index + 1:06d}",
            "kind": arch.kind,
            "name": self._name(draft),
            "synopsis": self._synopsis(draft),
            "release_year": release_year,
            "date_added": self._date_added(release_year),
            "maturity_rating": self._rating(arch),
            "duration_minutes": self._runtime(arch) if arch.kind == "MOVIE" else None,
            "seasons": self._seasons(release_year, tags) if arch.kind == "SHOW" else None,
            "original_language": language,
            "genres": self._genres(arch, countries[0]),
            "tags": tags,
            "cast": [person.name for person in cast],
            "directors": [person.name for person in directors],
            "origin_countries": countries,
        }
        return record, arch.key

    # -- facts --------------------------------------------------------------------------------

    def _countries(self, arch: Archetype) -> list[str]:
        first = self.countries[arch.key].draw(self.rng)
        countries = [first]
        if self.rng.random() < arch.coproduction:
            partners = [(c, w) for c, w in self.co_producers if c != first]
            countries.append(_Weighted(partners).draw(self.rng))
        return countries

    def _release_year(self, arch: Archetype) -> int:
        low, high = max(arch.era[0], FIRST_YEAR), min(arch.era[1], LAST_YEAR)
        if arch.recency > 0:
            year = high - int(self.rng.expovariate(1.0 / arch.recency))
            if year >= low:
                return year
        return self.rng.randint(low, high)

    def _date_added(self, release_year: int) -> str | None:
        if self.rng.random() < 0.03:
            return None
        start = max(FIRST_ADDED, date(release_year, 1, 1)).toordinal()
        end = LAST_ADDED.toordinal()
        if release_year >= FIRST_ADDED.year and self.rng.random() < 0.7:
            end = min(end, start + 500)  # most recent titles arrive soon after release
        return date.fromordinal(self.rng.randint(start, end)).isoformat()

    def _rating(self, arch: Archetype) -> str:
        rating = self.ratings[arch.key].draw(self.rng)
        if (
            arch.kind == "MOVIE"
            and arch.audience != "kids"
            and rating in vocab.MPAA_RATINGS
            and self.rng.random() < 0.1
        ):
            rating = vocab.MPAA_TO_TV[rating]  # a streaming original rated on the TV scale
        return rating

    def _runtime(self, arch: Archetype) -> int:
        low, high = arch.runtime
        return round(self.rng.triangular(low, high, low + (high - low) * 0.4))

    def _seasons(self, release_year: int, tags: list[dict[str, object]]) -> int:
        if any(tag["name"] in _LIMITED_FORMATS for tag in tags):
            return 1
        seasons = int(self.seasons.draw(self.rng))
        return max(1, min(seasons, LAST_YEAR - release_year + 1))

    def _genres(self, arch: Archetype, first_country: str) -> list[str]:
        rng = self.rng
        genres = [arch.genres[0]]
        for position, genre in enumerate(arch.genres[1:]):
            if rng.random() < (0.75 if position == 0 else 0.45):
                genres.append(genre)
        if rng.random() < GENRE_NOISE:
            pool = (
                vocab.KID_SAFE_NOISE_GENRES
                if arch.audience in ("kids", "family")
                else vocab.NOISE_GENRES
            )[arch.kind]
            candidates = [g for g in pool if g not in genres]
            if candidates:
                genres.insert(1, rng.choice(candidates))
        international = first_country != "US"
        genres = genres[: 2 if international else 3]
        if international:
            genres.append(vocab.INTERNATIONAL_GENRE[arch.kind])
        return genres

    def _tags(self, arch: Archetype) -> list[dict[str, object]]:
        rng = self.rng
        target = rng.choices((2, 3, 4, 5, 6), weights=(1, 3, 4, 3, 2))[0]
        n_noise = 0
        if rng.random() < TAG_NOISE:
            n_noise = 2 if rng.random() < 0.2 else 1
        n_noise = min(n_noise, target - 1)

        chosen: dict[tuple[str, str], float] = {}
        for spec in arch.tags:
            if rng.random() < min(0.95, 0.2 + 0.8 * spec.weight):
                weight = spec.weight + rng.gauss(0.0, 0.07)
                chosen[(spec.kind, spec.name)] = round(min(1.0, max(0.05, weight)), 2)
        ranked = sorted(chosen.items(), key=lambda item: -item[1])[: target - n_noise]
        if len(ranked) < 2:  # top up with the archetype's strongest tags
            for spec in sorted(arch.tags, key=lambda s: -s.weight):
                if len(ranked) >= 2:
                    break
                if all(key != (spec.kind, spec.name) for key, _ in ranked):
                    ranked.append(((spec.kind, spec.name), spec.weight))

        taken = {key for key, _ in ranked} | {(s.kind, s.name) for s in arch.tags}
        kid_safe = arch.audience in ("kids", "family")
        for _ in range(n_noise):
            kind = rng.choice(vocab.NOISE_TAG_KINDS)
            options = [
                n
                for n in vocab.TAG_VOCABULARY[kind]
                if (kind, n) not in taken and not (kid_safe and n in vocab.NOT_FOR_KIDS)
            ]
            name = rng.choice(options)
            taken.add((kind, name))
            ranked.append(((kind, name), round(rng.uniform(0.1, 0.5), 2)))

        ranked.sort(key=lambda item: (-item[1], item[0]))
        return [{"kind": k, "name": n, "weight": w} for (k, n), w in ranked]

    # -- people -------------------------------------------------------------------------------

    def _cast(self, arch: Archetype, countries: list[str]) -> list[_Person]:
        rng = self.rng
        size = rng.randint(*arch.cast_size)
        home = vocab.REGION_OF_COUNTRY[countries[0]]
        guest = vocab.REGION_OF_COUNTRY[countries[1]] if len(countries) > 1 else "anglo"
        cast: list[_Person] = []
        for _ in range(size * 3):
            if len(cast) >= size:
                break
            roll = rng.random()
            region = home if roll < 0.9 else guest
            person = self.cast_pools[region].draw(rng)
            if person not in cast:
                cast.append(person)
        return cast

    def _directors(self, arch: Archetype, countries: list[str]) -> list[_Person]:
        rng = self.rng
        odds = arch.directors or (_MOVIE_DIRECTORS if arch.kind == "MOVIE" else _SHOW_DIRECTORS)
        count = rng.choices((0, 1, 2), weights=odds)[0]
        pool = self.director_pools[vocab.REGION_OF_COUNTRY[countries[0]]]
        directors: list[_Person] = []
        for _ in range(count * 3):
            if len(directors) >= count:
                break
            person = pool.draw(rng)
            if person not in directors:
                directors.append(person)
        return directors

    def _first_name(self, region: str, gender: Gender) -> str:
        if gender == "n":
            gender = "f" if self.rng.random() < 0.5 else "m"
        names = vocab.FIRST_NAMES_F if gender == "f" else vocab.FIRST_NAMES_M
        return self.rng.choice(names[region])

    # -- text ---------------------------------------------------------------------------------

    def _name(self, draft: _Draft) -> str:
        rng = self.rng
        patterns = draft.archetype.title_patterns
        name = ""
        for _ in range(6):
            name = self._render(rng.choice(patterns), draft)
            if name.casefold() not in self.used_names:
                break
        else:
            base = name
            subtitles = (*draft.archetype.slots.get("subtitle", ()), *vocab.SUBTITLES)
            for _ in range(8):
                name = f"{base}: {rng.choice(subtitles)}"
                if name.casefold() not in self.used_names:
                    break
        name = name[:NAME_MAX].rstrip()
        self.used_names.add(name.casefold())
        return name

    def _synopsis(self, draft: _Draft) -> str:
        rng = self.rng
        templates = draft.archetype.synopsis_templates
        if draft.gender == "n" or draft.protagonist is None:
            templates = tuple(t for t in templates if "{name}" not in t) or templates
        best = ""
        for _ in range(8):
            text = _capitalize_sentences(self._render(rng.choice(templates), draft))
            if SYNOPSIS_MIN <= len(text) <= SYNOPSIS_MAX:
                return text
            if not best or abs(len(text) - 160) < abs(len(best) - 160):
                best = text
        if len(best) > SYNOPSIS_MAX:
            best = best[: SYNOPSIS_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "."
        return best

    def _render(self, template: str, draft: _Draft) -> str:
        """Fills ``{fields}`` (recursively, since slot values may hold fields too)."""
        used: set[str] = set()

        def fill(match: re.Match[str]) -> str:
            return self._field(match.group(1), draft, used)

        text = template
        for _ in range(4):
            if "{" not in text:
                break
            text = _FIELD.sub(fill, text)
        return text

    def _field(self, name: str, draft: _Draft, used: set[str]) -> str:
        rng = self.rng
        base = name.rstrip("0123456789")
        pronouns = _PRONOUNS[draft.gender]
        if base in pronouns:
            return pronouns[base]
        if base == "protagonist" and draft.protagonist is not None:
            return draft.protagonist.text
        if base == "name":
            return draft.hero_name
        if base == "city":
            return draft.city
        if base == "country":
            return vocab.COUNTRY_NAMES[draft.country]
        if base == "lead":
            return draft.cast[0].name if draft.cast else "the host"
        options: Sequence[str]
        if base == "first":
            options = vocab.FIRST_NAMES_F[draft.region] + vocab.FIRST_NAMES_M[draft.region]
        elif base == "surname":
            options = vocab.SURNAMES[draft.region]
        else:
            options = draft.archetype.slots[base]
        fresh = [o for o in options if o not in used] or list(options)
        value = rng.choice(fresh)
        used.add(value)
        return value


def _capitalize_sentences(text: str) -> str:
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _check_archetypes() -> None:
    problems = validate_archetypes()
    if problems:
        raise ValueError("bad demo archetypes:\n" + "\n".join(problems))


_check_archetypes()

__all__ = [
    "ARCHETYPES",
    "ARCHETYPES_BY_KEY",
    "FICTION_TEMPLATES",
    "Archetype",
    "Protagonist",
    "TagSpec",
    "generate_catalog",
    "generate_catalog_with_archetypes",
    "validate_archetypes",
    "write_jsonl",
]
