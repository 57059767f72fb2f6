"""The canonical title record and its validation, shared by every way titles come in.

The canonical JSONL format (one object per line), the GraphQL ``TitleInput`` and the demo
generator all produce this shape; the Netflix CSV reader maps its columns onto it.

    {"external_id": "s1", "kind": "MOVIE" | "SHOW", "name": "…", "synopsis": "…" | null,
     "release_year": 2020 | null, "date_added": "2021-09-25" | null, "maturity_rating": "PG-13",
     "duration_minutes": 90 | null, "seasons": 2 | null, "original_language": "en" | null,
     "genres": ["Dramas"], "tags": [{"kind": "THEME", "name": "revenge", "weight": 0.8}],
     "cast": ["…"], "directors": ["…"], "origin_countries": ["US", "France"]}

Only ``external_id``, ``kind`` and ``name`` are required; list fields default to empty.
The fields are a pydantic model (``TitleRecord``) whose ``Annotated`` types are the checks
below; a failed ``model_validate`` becomes ``RowError``s (``server.ingest.records``).
``origin_countries`` takes ISO 3166-1 alpha-2 codes or country names.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from server.ingest.records import FieldError, checked, row_errors
from server.ingest.rows import RowError, RowWarning
from server.kit.countries import CountryResolver
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

_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# Undecodable bytes (kept as U+DC80..U+DCFF by surrogateescape) and unpaired surrogates from
# JSON escapes: neither can be stored as UTF-8.
_INVALID_UTF8 = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_TITLE_KINDS: dict[str, TitleKind] = {kind.value: kind for kind in TitleKind}
_TAG_KINDS: dict[str, TagKind] = {kind.value: kind for kind in TagKind}
# Plain ``str`` values of the enum members (``member.value`` goes through a descriptor).
_TITLE_KIND_VALUES: dict[TitleKind, str] = {kind: kind.value for kind in TitleKind}
_TAG_KIND_VALUES: dict[TagKind, str] = {kind: kind.value for kind in TagKind}


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
        if not self.tags:
            return [TagValue(TagKind.GENRE, name, 1.0) for name in dict.fromkeys(self.genres)]
        merged: dict[tuple[TagKind, str], float] = {}
        for name in self.genres:
            merged[(TagKind.GENRE, name)] = 1.0
        for tag in self.tags:
            key = (tag.kind, tag.name)
            merged[key] = max(merged.get(key, 0.0), tag.weight)
        return [TagValue(kind, name, weight) for (kind, name), weight in merged.items()]


# What ``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`` uses, built once.
_HASH_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compute_hash(title: CanonicalTitle) -> str:
    payload = [
        title.external_id,
        _TITLE_KIND_VALUES[title.kind],
        title.name,
        title.synopsis,
        title.release_year,
        title.date_added.isoformat() if title.date_added else None,
        title.maturity_rating,
        title.duration_minutes,
        title.seasons,
        title.original_language,
        list(title.genres),
        [[_TAG_KIND_VALUES[t.kind], t.name, t.weight] for t in title.tags],
        list(title.cast),
        list(title.directors),
        list(title.origin_countries),
    ]
    encoded = _HASH_ENCODER.encode(payload).encode()
    return hashlib.sha256(encoded).hexdigest()


class RecordError(FieldError):
    """A field of a title record is invalid (``field`` may be empty: the model's location
    names it)."""


@dataclass
class Validated:
    title: CanonicalTitle | None
    errors: list[RowError]
    warnings: list[RowWarning]


class RecordValidator:
    """Turns raw canonical dicts into ``CanonicalTitle``s, collecting errors per field."""

    def __init__(self, countries: CountryResolver | None = None) -> None:
        self.countries = countries or CountryResolver.default()
        self._resolved: dict[str, str | None] = {}  # country names repeat a lot

    def validate(self, raw: dict[str, Any], line: int) -> Validated:
        errors: list[RowError] = []
        warnings: list[RowWarning] = []
        ext = raw.get("external_id")
        ext_label = ext if isinstance(ext, str) and ext else None

        def fail(field_name: str, reason: str) -> None:
            errors.append(RowError(line, field_name, reason, ext_label))

        if not raw.keys() <= CANONICAL_FIELDS:
            unknown = sorted(raw.keys() - CANONICAL_FIELDS)
            fail(unknown[0], f"unknown field(s): {', '.join(unknown)}")
        for key, value in raw.items():
            # ASCII text cannot hold an escaped bad byte: skip the search for it.
            if isinstance(value, str) and not value.isascii() and _INVALID_UTF8.search(value):
                fail(key, "invalid UTF-8")
        if errors:
            return Validated(None, errors, warnings)

        values: dict[str, Any] = {}
        try:
            values = dict(TitleRecord.model_validate(raw))
        except ValidationError as exc:
            errors.extend(row_errors(exc, line, ext_label))
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
        resolved = self._resolved
        codes: list[str] = []
        for name in names:
            if name in resolved:
                code = resolved[name]
            else:
                code = resolved[name] = self.countries.resolve(name)
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
    ext: str = value.strip()
    if len(ext) > MAX_EXTERNAL_ID:
        raise RecordError("external_id", f"longer than {MAX_EXTERNAL_ID} characters")
    if not _EXTERNAL_ID.match(ext):
        raise RecordError("external_id", f"{ext!r} may only hold letters, digits and . _ : -")
    return ext


def _kind(value: Any) -> TitleKind:
    if value is None or value == "":
        raise RecordError("kind", "missing")
    kind = _TITLE_KINDS.get(str(value).upper())
    if kind is None:
        raise RecordError("kind", f"unknown type {value!r} (expected MOVIE or SHOW)")
    return kind


def _text(value: Any, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise RecordError("", "missing")
        return None
    if not isinstance(value, str):
        raise RecordError("", f"must be a string, got {type(value).__name__}")
    text: str = " ".join(value.split())
    if not text:
        if required:
            raise RecordError("", "missing")
        return None
    if len(text) > limit:
        raise RecordError("", f"over-long: {len(text)} characters, at most {limit}")
    if _CONTROL.search(text):
        raise RecordError("", "contains control characters")
    return text


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
    text = _text(value, 64)
    if text is None:
        return None
    text = text.lower()
    if not _LANGUAGE.match(text):
        raise RecordError("", f"{value!r} is not an ISO 639 language code (e.g. en, es, ko)")
    return text


def _names(value: Any, limit: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise RecordError("", "must be a list of strings")
    if len(value) > MAX_LIST:
        raise RecordError("", f"more than {MAX_LIST} entries")
    if not value:
        return ()
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise RecordError("", f"entries must be strings, got {type(item).__name__}")
        name = _clean_entry(item, limit)
        if not name:
            continue
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            out.append(name)
    return tuple(out)


def _clean_entry(item: str, limit: int) -> str:
    """One list entry (a person, genre, tag or country name): whitespace collapsed, checked."""
    name = " ".join(item.split())
    if len(name) > limit:
        raise RecordError("", f"over-long entry ({len(name)} characters, at most {limit})")
    if not name.isascii():
        if _INVALID_UTF8.search(name):
            raise RecordError("", f"invalid UTF-8 in entry {name!r}")
    if _CONTROL.search(name):
        raise RecordError("", f"entry {name!r} contains control characters")
    return name


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
        kind = _TAG_KINDS.get(str(item.get("kind", "")).upper())
        if kind is None:
            raise RecordError("", f"unknown tag kind {item.get('kind')!r}")
        raw_name = item.get("name")
        if raw_name is not None and not isinstance(raw_name, str):
            raise RecordError("", f"tag name must be a string, got {type(raw_name).__name__}")
        name = _clean_entry(raw_name or "", MAX_TAG)
        if not name:
            raise RecordError("", "tag name missing")
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
            raise RecordError("", f"tag weight must be a number in [0, 1], got {weight!r}")
        out[(kind, name.casefold())] = TagValue(kind, name, round(float(weight), 4))
    return tuple(out.values())


def _name(value: Any) -> str | None:
    return _text(value, MAX_NAME, required=True)


def _synopsis(value: Any) -> str | None:
    return _text(value, MAX_SYNOPSIS)


def _rating(value: Any) -> str | None:
    return _text(value, MAX_RATING)


def _minutes(value: Any) -> int | None:
    return _positive_int(value, MAX_MINUTES)


def _seasons(value: Any) -> int | None:
    return _positive_int(value, MAX_SEASONS)


def _genres(value: Any) -> tuple[str, ...]:
    return _names(value, MAX_TAG)


def _people(value: Any) -> tuple[str, ...]:
    return _names(value, MAX_PERSON)


class TitleRecord(BaseModel):
    """The fields of a canonical title record, each checked on its own, in report order
    (``origin_countries``, which resolves names and warns, and the rules between fields are
    checked by ``RecordValidator``). Field types are the checks above, as validators."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    external_id: Annotated[str, checked(_external_id)]
    kind: Annotated[TitleKind, checked(_kind)]
    name: Annotated[str, checked(_name)]
    synopsis: Annotated[str | None, checked(_synopsis)] = None
    release_year: Annotated[int | None, checked(_year)] = None
    date_added: Annotated[date | None, checked(_date)] = None
    maturity_rating: Annotated[str | None, checked(_rating)] = None
    duration_minutes: Annotated[int | None, checked(_minutes)] = None
    seasons: Annotated[int | None, checked(_seasons)] = None
    original_language: Annotated[str | None, checked(_language)] = None
    genres: Annotated[tuple[str, ...], checked(_genres)] = ()
    tags: Annotated[tuple[TagValue, ...], checked(_tags)] = ()
    cast: Annotated[tuple[str, ...], checked(_people)] = ()
    directors: Annotated[tuple[str, ...], checked(_people)] = ()


CANONICAL_FIELDS = frozenset(TitleRecord.model_fields) | {"origin_countries"}
"""Every field a canonical record may have; any other is an error."""
