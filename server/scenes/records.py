"""Scene, engagement and retention-curve records and their row-level validation.

Each record is a pydantic model (``SceneInput``, ``EngagementInput``, ``CurveInput``) whose fields
are ``Annotated`` types: one validator per kind of value, taking CSV text and JSON values
alike, its message the reason a user reads; ``server.ingest.records.row_errors`` turns a
failed ``model_validate`` into ``RowError``s naming the line, the field and the reason. Checks
that need the database (is the title known, which kind, what runtime; does the scene exist) run
after the model, on a ``TitleIndex`` / ``SceneIndex`` loaded once per file; checks that need the
whole file (duplicates, overlaps) live in ``server.scenes.ingest``.

Measured on the million-row engagement file: validation at ~47,000 rows/s against ~60,000 for
the hand-written checks before (plain validators: pydantic's ``ValidationInfo`` per field cost
another fifth); the whole ingest is dominated by reading and the merge.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from server.ingest.records import FieldError, RecordParser, checked, row_errors
from server.ingest.rows import RowError
from server.kit.countries import CountryResolver
from server.scenes.readers import CURVE_COLUMNS, ENGAGEMENT_COLUMNS, SCENE_COLUMNS

MAX_DESCRIPTION = 2000
MAX_TAGS = 20
MAX_TAG = 50
MAX_NAMES = 50
MAX_NAME = 200
MAX_CURVE_POINTS = 100_000
RUNTIME_TOLERANCE_SECONDS = 60
"""A movie's runtime is stored in whole minutes: scenes may end up to a minute past it."""
MAX_EPISODE_SECONDS = 4 * 3600
"""Episodes have no runtime in the catalog: a scene past four hours is an error."""
MAX_MOVIE_SECONDS = 1000 * 60
"""A movie without a runtime: the catalog's longest allowed runtime."""

SCENE_FIELDS = frozenset(SCENE_COLUMNS)
ENGAGEMENT_FIELDS = frozenset(ENGAGEMENT_COLUMNS)
CURVE_FIELDS = frozenset(CURVE_COLUMNS)
RATES = ("watched_fraction", "rewatch_rate", "skip_rate", "exit_rate")
_TAG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_BAD_TEXT = re.compile("[\ud800-\udfff\x00]")
LIST_SEPARATOR = "|"
"""Separates entries of list fields (tags, characters, people, shares) in CSV files."""


@dataclass(frozen=True)
class TitleInfo:
    id: int
    kind: str
    duration_minutes: int | None

    @property
    def max_seconds(self) -> float:
        if self.kind == "SHOW":
            return MAX_EPISODE_SECONDS
        if self.duration_minutes is None:
            return MAX_MOVIE_SECONDS
        return self.duration_minutes * 60 + RUNTIME_TOLERANCE_SECONDS

    def runtime_text(self) -> str:
        if self.kind == "SHOW":
            return f"the {MAX_EPISODE_SECONDS // 3600}-hour episode limit"
        if self.duration_minutes is None:
            return f"the {MAX_MOVIE_SECONDS // 60}-minute limit"
        return f"the runtime ({self.duration_minutes} min)"


TitleIndex = Mapping[str, TitleInfo]
"""External id -> title facts, for every title in the catalog."""
SceneKey = tuple[str, int | None, int]
"""(title external id, episode or None, ordinal)."""
SceneIndex = Mapping[SceneKey, int]
"""Scene key -> scene id, for every scene in the database."""


@dataclass(frozen=True, slots=True)
class SceneRecord:
    line: int
    external_id: str
    title_id: int
    episode: int | None
    ordinal: int
    start: float
    end: float
    description: str | None
    tags: tuple[str, ...]
    characters: tuple[str, ...]
    people: tuple[str, ...]

    @property
    def key(self) -> SceneKey:
        return (self.external_id, self.episode, self.ordinal)

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [
                self.start,
                self.end,
                self.description,
                self.tags,
                self.characters,
                self.people,
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EngagementRecord:
    line: int
    external_id: str
    episode: int | None
    ordinal: int
    scene_id: int
    title_id: int
    region: str | None
    plays: int
    watched_fraction: float
    rewatch_rate: float
    skip_rate: float
    exit_rate: float

    @property
    def key(self) -> tuple[int, str | None]:
        return (self.scene_id, self.region)


@dataclass(frozen=True, slots=True)
class CurveRecord:
    line: int
    external_id: str
    title_id: int
    episode: int | None
    region: str | None
    resolution_seconds: int
    shares: tuple[float, ...]

    @property
    def key(self) -> tuple[int, int | None, str | None]:
        return (self.title_id, self.episode, self.region)


# --- value coercion: CSV strings and JSON values alike --------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _int(value: Any, field: str, *, required: bool = True) -> int | None:
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is str:
        try:
            return int(value)  # surrounding whitespace is fine
        except ValueError:
            pass
    if _blank(value):
        if required:
            raise FieldError(field, "missing")
        return None
    if kind is float and value.is_integer():
        return int(value)
    raise FieldError(field, f"expected a whole number, got {value!r}")


def _number(value: Any, field: str) -> float:
    """A float from a JSON number or CSV text (not checked for finiteness)."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if kind is str:
        try:
            return float(value)
        except ValueError:
            pass
    if _blank(value):
        raise FieldError(field, "missing")
    raise FieldError(field, f"expected a number, got {value!r}")


def _float(value: Any, field: str = "") -> float:
    number = _number(value, field)
    if not math.isfinite(number):
        raise FieldError(field, f"expected a finite number, got {value!r}")
    return number


def _rate(value: Any, field: str = "") -> float:
    # Four per engagement row: the common cases first, without the call to ``_number``.
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif kind is str:
        try:
            number = float(value)
        except ValueError:
            number = _number(value, field)
    else:
        number = _number(value, field)
    if not 0.0 <= number <= 1.0:  # NaN and infinities fail too
        raise FieldError(field, f"{number:g} is outside [0, 1]")
    return number


def _text(value: Any, field: str, limit: int) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"expected text, got {type(value).__name__}")
    cleaned = value.strip()
    if _BAD_TEXT.search(cleaned):
        raise FieldError(field, "invalid UTF-8 or NUL character")
    if len(cleaned) > limit:
        raise FieldError(field, f"longer than {limit} characters ({len(cleaned)})")
    return cleaned


def _list(value: Any, field: str) -> list[Any]:
    if _blank(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    if isinstance(value, list):
        return value
    raise FieldError(field, f"expected a list, got {type(value).__name__}")


def _names(value: Any, field: str = "") -> tuple[str, ...]:
    entries = _list(value, field)
    if len(entries) > MAX_NAMES:
        raise FieldError(field, f"more than {MAX_NAMES} entries ({len(entries)})")
    names: list[str] = []
    for entry in entries:
        name = _text(entry, field, MAX_NAME)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _tags(value: Any) -> tuple[str, ...]:
    entries = _list(value, "tags")
    if len(entries) > MAX_TAGS:
        raise FieldError("tags", f"more than {MAX_TAGS} tags ({len(entries)})")
    tags: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise FieldError("tags", f"expected tag names, got {entry!r}")
        tag = entry.strip().lower().replace(" ", "-").replace("_", "-")
        if len(tag) > MAX_TAG or not _TAG.match(tag):
            raise FieldError(
                "tags", f"bad tag {entry!r} (letters, digits and single hyphens, at most 50)"
            )
        if tag not in tags:
            tags.append(tag)
    return tuple(sorted(tags))


def _shares(raw: list[Any], resolution: int) -> list[float]:
    """Curve points as floats in [0, 1]: the fast path checks the whole list at once; the
    slow one runs only to name the first bad point."""
    try:
        if all(type(v) is float or type(v) is int or type(v) is str for v in raw):
            values = [float(v) for v in raw]
            if all(0.0 <= v <= 1.0 for v in values):  # NaN fails, as it should
                return values
    except ValueError:
        pass
    for index, value in enumerate(raw):
        try:
            _rate(value, "shares")
        except FieldError as exc:
            raise FieldError(
                "shares", f"point {index} ({index * resolution} s): {exc.reason}"
            ) from None
    raise FieldError("shares", "expected numbers in [0, 1]")  # pragma: no cover


def _unknown_fields(data: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    return sorted(k for k in data if k not in allowed)


# --- field types: one per kind of value, the same rules in CSV text and JSON ------------------


def _external_id(value: Any, field: str = "") -> str:
    if _blank(value):
        raise FieldError(field, "missing")
    return str(value).strip()


def _required_int(value: Any, field: str) -> int:
    number = _int(value, field)
    assert number is not None
    return number


def _optional_int(value: Any, field: str = "") -> int | None:
    return _int(value, field, required=False)


def _ordinal(value: Any, field: str = "") -> int:
    ordinal = _required_int(value, field)
    if ordinal < 1 or ordinal > 2**31 - 1:
        raise FieldError(field, f"must be 1 or more, got {ordinal}")
    return ordinal


def _plays(value: Any, field: str = "") -> int:
    plays = _required_int(value, field)
    if plays < 0:
        raise FieldError(field, f"negative plays {plays}")
    return plays


@lru_cache(maxsize=1024)
def _resolve_region(raw: str) -> str | None:
    """Files repeat a handful of regions: each spelling is resolved once."""
    return CountryResolver.default().resolve(raw)


def _region(value: Any, field: str = "") -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"expected a country code, got {value!r}")
    code = _resolve_region(value)
    if code is None:
        raise FieldError(field, f"unknown country {value!r} (ISO 3166-1 alpha-2 code, e.g. US)")
    return code


def _description(value: Any, field: str = "") -> str | None:
    return _text(value, field, MAX_DESCRIPTION)


def _resolution(value: Any, field: str = "") -> int:
    resolution = _required_int(value, field)
    if not 1 <= resolution <= 3600:
        raise FieldError(field, f"must be 1..3600, got {resolution}")
    return resolution


def _points(value: Any, field: str = "") -> list[Any]:
    raw = _list(value, field)
    if len(raw) < 2:
        raise FieldError(field, "needs at least two points (at 0 s and later)")
    if len(raw) > MAX_CURVE_POINTS:
        raise FieldError(field, f"more than {MAX_CURVE_POINTS} points")
    return raw


ExternalId = Annotated[str, checked(_external_id)]
Episode = Annotated[int | None, checked(_optional_int)]
Ordinal = Annotated[int, checked(_ordinal)]
Seconds = Annotated[float, checked(_float)]
Description = Annotated[str | None, checked(_description)]
Tags = Annotated[tuple[str, ...], checked(_tags)]
Names = Annotated[tuple[str, ...], checked(_names)]
Region = Annotated[str | None, checked(_region)]
Plays = Annotated[int, checked(_plays)]
Rate = Annotated[float, checked(_rate)]
Resolution = Annotated[int, checked(_resolution)]
Points = Annotated[list[Any], checked(_points)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TitledInput(_Row):
    """A row about a catalog title (and an episode of a show)."""

    external_id: ExternalId
    episode: Episode = None


class SceneInput(_TitledInput):
    """One row of a scenes file, each field checked on its own."""

    ordinal: Ordinal
    start: Seconds
    end: Seconds
    description: Description = None
    tags: Tags = ()
    characters: Names = ()
    people: Names = ()


class EngagementInput(_TitledInput):
    """One row of an engagement file: a scene's metrics in a region (or all regions)."""

    ordinal: Ordinal
    region: Region = None
    plays: Plays
    watched_fraction: Rate
    rewatch_rate: Rate
    skip_rate: Rate
    exit_rate: Rate


class CurveInput(_TitledInput):
    """One retention curve: the share of viewers left every ``resolution_seconds``."""

    region: Region = None
    resolution_seconds: Resolution
    shares: Points


# --- validators: the row's fields, then what needs the catalog ------------------------------


class _Base:
    def __init__(self, titles: TitleIndex) -> None:
        self.titles = titles

    def _title(self, ext: str) -> TitleInfo:
        info = self.titles.get(ext)
        if info is None:
            raise FieldError("external_id", f"unknown title {ext!r} (ingest the catalog first)")
        return info

    @staticmethod
    def _episode(episode: int | None, info: TitleInfo) -> int | None:
        if info.kind == "MOVIE" and episode is not None:
            raise FieldError("episode", "a movie has no episodes (leave episode empty)")
        if info.kind == "SHOW":
            if episode is None:
                raise FieldError("episode", "required for a show")
            if episode < 1 or episode > 32767:
                raise FieldError("episode", f"must be 1 or more, got {episode}")
        return episode


def _external_id_of(data: Mapping[str, Any]) -> str | None:
    raw = data.get("external_id")
    return None if _blank(raw) else str(raw).strip()


M = TypeVar("M", bound=BaseModel)


def _parse(
    model: type[M], allowed: frozenset[str], data: Mapping[str, Any], line: int
) -> M | list[RowError]:
    """The row as ``model``, or its errors: each unknown field, else each bad field."""
    if not data.keys() <= allowed:
        ext = _external_id_of(data)
        return [RowError(line, f, "unknown field", ext) for f in _unknown_fields(data, allowed)]
    try:
        return _parser(model).parse(data)
    except ValidationError as exc:
        return row_errors(exc, line, _external_id_of(data))


_PARSERS: dict[type[BaseModel], RecordParser[Any]] = {}


def _parser(model: type[M]) -> RecordParser[M]:
    parser: RecordParser[M] | None = _PARSERS.get(model)
    if parser is None:
        parser = _PARSERS[model] = RecordParser(model)
    return parser


T = TypeVar("T", bound=_TitledInput)


def _parse_placed(
    validator: _Base, model: type[T], allowed: frozenset[str], data: Mapping[str, Any], line: int
) -> tuple[T, TitleInfo, int | None] | list[RowError]:
    """``_parse``, then the row's title and episode in the catalog (the first error only)."""
    row = _parse(model, allowed, data, line)
    if isinstance(row, list):
        return row
    try:
        info = validator._title(row.external_id)
        return row, info, validator._episode(row.episode, info)
    except FieldError as exc:
        return [RowError(line, exc.field, exc.reason, row.external_id)]


class SceneValidator(_Base):
    def validate(self, data: Mapping[str, Any], line: int) -> SceneRecord | list[RowError]:
        row = _parse(SceneInput, SCENE_FIELDS, data, line)
        if isinstance(row, list):
            return row
        ext = row.external_id
        errors: list[RowError] = []
        info: TitleInfo | None = None
        episode = row.episode
        try:
            info = self._title(row.external_id)
            episode = self._episode(row.episode, info)
        except FieldError as exc:
            errors.append(RowError(line, exc.field, exc.reason, ext))
        start, end = row.start, row.end
        if start < 0:
            errors.append(RowError(line, "start", f"negative start {start:g}", ext))
        if end <= start:
            errors.append(
                RowError(line, "end", f"end {end:g} s is not after start {start:g} s", ext)
            )
        elif info is not None and end > info.max_seconds:
            errors.append(
                RowError(line, "end", f"scene ends at {end:g} s, past {info.runtime_text()}", ext)
            )
        if errors or info is None:
            return errors
        return SceneRecord(
            line=line,
            external_id=row.external_id,
            title_id=info.id,
            episode=episode,
            ordinal=row.ordinal,
            start=start,
            end=end,
            description=row.description,
            tags=row.tags,
            characters=row.characters,
            people=row.people,
        )


class EngagementValidator(_Base):
    def __init__(self, titles: TitleIndex, scenes: SceneIndex) -> None:
        super().__init__(titles)
        self.scenes = scenes

    def validate(
        self, data: Mapping[str, Any], line: int
    ) -> EngagementRecord | CurveRecord | list[RowError]:
        if "shares" in data or "resolution_seconds" in data:
            return self._curve(data, line)
        placed = _parse_placed(self, EngagementInput, ENGAGEMENT_FIELDS, data, line)
        if isinstance(placed, list):
            return placed
        row, info, episode = placed
        ext = row.external_id
        scene_id = self.scenes.get((ext, episode, row.ordinal))
        if scene_id is None:
            where = f"episode {episode} " if episode is not None else ""
            return [
                RowError(
                    line,
                    "ordinal",
                    f"unknown scene {row.ordinal} in {where}of {ext!r} (ingest its scenes first)",
                    ext,
                )
            ]
        return EngagementRecord(
            line=line,
            external_id=ext,
            episode=episode,
            ordinal=row.ordinal,
            scene_id=scene_id,
            title_id=info.id,
            region=row.region,
            plays=row.plays,
            watched_fraction=row.watched_fraction,
            rewatch_rate=row.rewatch_rate,
            skip_rate=row.skip_rate,
            exit_rate=row.exit_rate,
        )

    def _curve(self, data: Mapping[str, Any], line: int) -> CurveRecord | list[RowError]:
        placed = _parse_placed(self, CurveInput, CURVE_FIELDS, data, line)
        if isinstance(placed, list):
            return placed
        row, info, episode = placed
        ext = row.external_id
        try:
            resolution = row.resolution_seconds
            shares = _shares(row.shares, resolution)
            length = (len(shares) - 1) * resolution
            if length > info.max_seconds:
                raise FieldError(
                    "shares", f"the curve runs to {length} s, past {info.runtime_text()}"
                )
        except FieldError as exc:
            return [RowError(line, exc.field, exc.reason, ext)]
        return CurveRecord(
            line=line,
            external_id=ext,
            title_id=info.id,
            episode=episode,
            region=row.region,
            resolution_seconds=resolution,
            shares=tuple(shares),
        )
