"""The canonical title record and its validation, shared by every way titles come in.

The canonical JSONL format (one object per line), the GraphQL ``TitleInput`` and the demo
generator all produce this shape; the Netflix CSV reader maps its columns onto it.

    {"external_id": "s1", "kind": "MOVIE" | "SHOW", "name": "…", "synopsis": "…" | null,
     "release_year": 2020 | null, "date_added": "2021-09-25" | null, "maturity_rating": "PG-13",
     "duration_minutes": 90 | null, "seasons": 2 | null, "original_language": "en" | null,
     "genres": ["Dramas"], "tags": [{"kind": "THEME", "name": "revenge", "weight": 0.8}],
     "cast": ["…"], "directors": ["…"], "origin_countries": ["US", "France"]}

Only ``external_id``, ``kind`` and ``name`` are required; list fields default to empty.
``origin_countries`` takes ISO 3166-1 alpha-2 codes or country names.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.catalog.countries import CountryResolver
from server.models.catalog import TagKind, TitleKind

MAX_EXTERNAL_ID = 64
MAX_NAME = 300
MAX_SYNOPSIS = 4000
MAX_RATING = 16
MAX_PERSON = 200
MAX_TAG = 100
MAX_LIST = 500
MIN_YEAR = 1870
MAX_YEAR = date.today().year + 5
MAX_MINUTES = 1000
MAX_SEASONS = 100

CANONICAL_FIELDS = frozenset(
    {
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
)
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class RowError:
    """Why one input row was rejected: its line, the field at fault and the reason."""

    line: int
    field: str
    reason: str
    external_id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.external_id})" if self.external_id else "")
        return f"{where}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class RowWarning:
    """Something accepted but worth a look (an unknown country name, a repaired field)."""

    line: int
    field: str
    message: str
    external_id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.external_id})" if self.external_id else "")
        return f"{where}: {self.field}: {self.message}"


@dataclass(frozen=True)
class TagValue:
    kind: TagKind
    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class CanonicalTitle:
    """A validated title, ready to stage; ``content_hash`` covers every field."""

    line: int
    external_id: str
    kind: TitleKind
    name: str
    synopsis: str | None = None
    release_year: int | None = None
    date_added: date | None = None
    maturity_rating: str | None = None
    duration_minutes: int | None = None
    seasons: int | None = None
    original_language: str | None = None
    genres: tuple[str, ...] = ()
    tags: tuple[TagValue, ...] = ()
    cast: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    origin_countries: tuple[str, ...] = ()
    content_hash: str = field(default="", compare=False)

    def all_tags(self) -> list[TagValue]:
        """Genres as GENRE tags, then the other tags (a tag named twice keeps its max weight)."""
        merged: dict[tuple[TagKind, str], float] = {}
        for name in self.genres:
            merged[(TagKind.GENRE, name)] = 1.0
        for tag in self.tags:
            key = (tag.kind, tag.name)
            merged[key] = max(merged.get(key, 0.0), tag.weight)
        return [TagValue(kind, name, weight) for (kind, name), weight in merged.items()]


def compute_hash(title: CanonicalTitle) -> str:
    payload = [
        title.external_id,
        title.kind.value,
        title.name,
        title.synopsis,
        title.release_year,
        title.date_added.isoformat() if title.date_added else None,
        title.maturity_rating,
        title.duration_minutes,
        title.seasons,
        title.original_language,
        list(title.genres),
        [[t.kind.value, t.name, t.weight] for t in title.tags],
        list(title.cast),
        list(title.directors),
        list(title.origin_countries),
    ]
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


class RecordError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Validated:
    title: CanonicalTitle | None
    errors: list[RowError]
    warnings: list[RowWarning]


class RecordValidator:
    """Turns raw canonical dicts into ``CanonicalTitle``s, collecting errors per field."""

    def __init__(self, countries: CountryResolver | None = None) -> None:
        self.countries = countries or CountryResolver.default()

    def validate(self, raw: dict[str, Any], line: int) -> Validated:
        errors: list[RowError] = []
        warnings: list[RowWarning] = []
        ext = raw.get("external_id")
        ext_label = ext if isinstance(ext, str) and ext else None

        def fail(field_name: str, reason: str) -> None:
            errors.append(RowError(line, field_name, reason, ext_label))

        unknown = sorted(set(raw) - CANONICAL_FIELDS)
        if unknown:
            fail(unknown[0], f"unknown field(s): {', '.join(unknown)}")
        for key, value in raw.items():
            if isinstance(value, str) and _INVALID_UTF8.search(value):
                fail(key, "invalid UTF-8")
        if errors:
            return Validated(None, errors, warnings)

        values: dict[str, Any] = {}
        checks = (
            ("external_id", _external_id),
            ("kind", _kind),
            ("name", lambda v: _text(v, MAX_NAME, required=True)),
            ("synopsis", lambda v: _text(v, MAX_SYNOPSIS)),
            ("release_year", _year),
            ("date_added", _date),
            ("maturity_rating", lambda v: _text(v, MAX_RATING)),
            ("duration_minutes", lambda v: _positive_int(v, MAX_MINUTES)),
            ("seasons", lambda v: _positive_int(v, MAX_SEASONS)),
            ("original_language", _language),
            ("genres", lambda v: _names(v, MAX_TAG)),
            ("tags", _tags),
            ("cast", lambda v: _names(v, MAX_PERSON)),
            ("directors", lambda v: _names(v, MAX_PERSON)),
        )
        for name, check in checks:
            try:
                values[name] = check(raw.get(name))
            except RecordError as exc:
                fail(name, exc.reason)
        try:
            values["origin_countries"] = self._countries(
                raw.get("origin_countries"), line, ext_label, warnings
            )
        except RecordError as exc:
            fail("origin_countries", exc.reason)
        if errors:
            return Validated(None, errors, warnings)

        kind: TitleKind = values["kind"]
        if kind is TitleKind.MOVIE and values["seasons"] is not None:
            fail("seasons", "a MOVIE has no seasons")
        if kind is TitleKind.SHOW and values["duration_minutes"] is not None:
            fail("duration_minutes", "a SHOW is measured in seasons, not minutes")
        added: date | None = values["date_added"]
        if added is not None and added > date.today():
            fail("date_added", f"{added.isoformat()} is in the future")
        if errors:
            return Validated(None, errors, warnings)

        title = CanonicalTitle(line=line, **values)
        return Validated(_with_hash(title), errors, warnings)

    def _countries(
        self, value: Any, line: int, ext: str | None, warnings: list[RowWarning]
    ) -> tuple[str, ...]:
        names = _names(value, MAX_TAG)
        codes: list[str] = []
        for name in names:
            code = self.countries.resolve(name)
            if code is None:
                warnings.append(
                    RowWarning(
                        line, "origin_countries", f"unknown country {name!r} (not linked)", ext
                    )
                )
            elif code not in codes:
                codes.append(code)
        return tuple(codes)


def _with_hash(title: CanonicalTitle) -> CanonicalTitle:
    object.__setattr__(title, "content_hash", compute_hash(title))
    return title


def _external_id(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError("external_id", "missing")
    if not isinstance(value, str):
        raise RecordError("external_id", f"must be a string, got {type(value).__name__}")
    value = value.strip()
    if len(value) > MAX_EXTERNAL_ID:
        raise RecordError("external_id", f"longer than {MAX_EXTERNAL_ID} characters")
    if not _EXTERNAL_ID.match(value):
        raise RecordError("external_id", f"{value!r} may only hold letters, digits and . _ : -")
    return value


def _kind(value: Any) -> TitleKind:
    if value is None or value == "":
        raise RecordError("kind", "missing")
    try:
        return TitleKind(str(value).upper())
    except ValueError:
        raise RecordError("kind", f"unknown type {value!r} (expected MOVIE or SHOW)") from None


def _text(value: Any, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise RecordError("", "missing")
        return None
    if not isinstance(value, str):
        raise RecordError("", f"must be a string, got {type(value).__name__}")
    value = " ".join(value.split())
    if not value:
        if required:
            raise RecordError("", "missing")
        return None
    if len(value) > limit:
        raise RecordError("", f"over-long: {len(value)} characters, at most {limit}")
    if any(ord(ch) < 32 for ch in value):
        raise RecordError("", "contains control characters")
    return value


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("", f"must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise RecordError("", f"must be a whole number, got {value!r}")


def _year(value: Any) -> int | None:
    try:
        year = _int(value)
    except RecordError:
        raise RecordError("", f"bad year {value!r}") from None
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise RecordError("", f"bad year {year} (expected {MIN_YEAR}..{MAX_YEAR})")
    return year


def _positive_int(value: Any, limit: int) -> int | None:
    number = _int(value)
    if number is not None and not 1 <= number <= limit:
        raise RecordError("", f"{number} is outside 1..{limit}")
    return number


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise RecordError("", f"must be an ISO date string, got {type(value).__name__}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RecordError("", f"bad date {value!r} (expected YYYY-MM-DD)") from None


def _language(value: Any) -> str | None:
    text = _text(value, 3)
    if text is None:
        return None
    text = text.lower()
    if not _LANGUAGE.match(text):
        raise RecordError("", f"{value!r} is not an ISO 639 language code")
    return text


def _names(value: Any, limit: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise RecordError("", "must be a list of strings")
    if len(value) > MAX_LIST:
        raise RecordError("", f"more than {MAX_LIST} entries")
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise RecordError("", f"entries must be strings, got {type(item).__name__}")
        name = " ".join(item.split())
        if not name:
            continue
        if len(name) > limit:
            raise RecordError("", f"over-long entry ({len(name)} characters, at most {limit})")
        if name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return tuple(out)


def _tags(value: Any) -> tuple[TagValue, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise RecordError("", "must be a list of {kind, name, weight} objects")
    out: dict[tuple[TagKind, str], TagValue] = {}
    for item in value:
        if not isinstance(item, dict):
            raise RecordError("", "entries must be {kind, name, weight} objects")
        extra = set(item) - {"kind", "name", "weight"}
        if extra:
            raise RecordError("", f"unknown tag field(s): {', '.join(sorted(extra))}")
        try:
            kind = TagKind(str(item.get("kind", "")).upper())
        except ValueError:
            raise RecordError("", f"unknown tag kind {item.get('kind')!r}") from None
        name = " ".join(str(item.get("name") or "").split())
        if not name:
            raise RecordError("", "tag name missing")
        if len(name) > MAX_TAG:
            raise RecordError("", f"over-long tag name ({len(name)} characters, at most {MAX_TAG})")
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
            raise RecordError("", f"tag weight must be a number in [0, 1], got {weight!r}")
        out[(kind, name.casefold())] = TagValue(kind, name, round(float(weight), 4))
    return tuple(out.values())
