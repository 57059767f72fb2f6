"""Scene, engagement and retention-curve records and their row-level validation.

Each validator turns one raw row (a dict from the CSV or JSONL reader: CSV values are strings,
JSONL values are JSON types) into a typed record, or into ``RowError``s naming the line, the
field and the reason. Checks that need the database (is the title known, which kind, what
runtime; does the scene exist) use a ``TitleIndex`` / ``SceneIndex`` loaded once per file;
checks that need the whole file (duplicates, overlaps) live in ``server.scenes.ingest``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


class FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


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


def _float(value: Any, field: str) -> float:
    number = _number(value, field)
    if not math.isfinite(number):
        raise FieldError(field, f"expected a finite number, got {value!r}")
    return number


def _rate(value: Any, field: str) -> float:
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


def _names(value: Any, field: str) -> tuple[str, ...]:
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


# --- validators ------------------------------------------------------------------------------


class _Base:
    def __init__(self, titles: TitleIndex) -> None:
        self.titles = titles

    def _title(self, data: Mapping[str, Any]) -> tuple[str, TitleInfo]:
        raw = data.get("external_id")
        if _blank(raw):
            raise FieldError("external_id", "missing")
        ext = str(raw).strip()
        info = self.titles.get(ext)
        if info is None:
            raise FieldError("external_id", f"unknown title {ext!r} (ingest the catalog first)")
        return ext, info

    @staticmethod
    def _episode(data: Mapping[str, Any], info: TitleInfo) -> int | None:
        episode = _int(data.get("episode"), "episode", required=False)
        if info.kind == "MOVIE" and episode is not None:
            raise FieldError("episode", "a movie has no episodes (leave episode empty)")
        if info.kind == "SHOW":
            if episode is None:
                raise FieldError("episode", "required for a show")
            if episode < 1 or episode > 32767:
                raise FieldError("episode", f"must be 1 or more, got {episode}")
        return episode

    @staticmethod
    def _region(data: Mapping[str, Any]) -> str | None:
        raw = data.get("region")
        if _blank(raw):
            return None
        if not isinstance(raw, str):
            raise FieldError("region", f"expected a country code, got {raw!r}")
        code = CountryResolver.default().resolve(raw)
        if code is None:
            raise FieldError(
                "region", f"unknown country {raw!r} (ISO 3166-1 alpha-2 code, e.g. US)"
            )
        return code

    @staticmethod
    def _ordinal(data: Mapping[str, Any]) -> int:
        ordinal = _int(data.get("ordinal"), "ordinal")
        assert ordinal is not None
        if ordinal < 1 or ordinal > 2**31 - 1:
            raise FieldError("ordinal", f"must be 1 or more, got {ordinal}")
        return ordinal


def _external_id_of(data: Mapping[str, Any]) -> str | None:
    raw = data.get("external_id")
    return None if _blank(raw) else str(raw).strip()


class SceneValidator(_Base):
    def validate(self, data: Mapping[str, Any], line: int) -> SceneRecord | list[RowError]:
        ext = _external_id_of(data)
        unknown = _unknown_fields(data, SCENE_FIELDS)
        if unknown:
            return [RowError(line, f, "unknown field", ext) for f in unknown]
        errors: list[RowError] = []

        def check(fn: Any, *args: Any) -> Any:
            try:
                return fn(*args)
            except FieldError as exc:
                errors.append(RowError(line, exc.field, exc.reason, ext))
                return None

        title = check(self._title, data)
        episode = check(self._episode, data, title[1]) if title else None
        ordinal = check(self._ordinal, data)
        start = check(_float, data.get("start"), "start")
        end = check(_float, data.get("end"), "end")
        description = check(_text, data.get("description"), "description", MAX_DESCRIPTION)
        tags = check(_tags, data.get("tags"))
        characters = check(_names, data.get("characters"), "characters")
        people = check(_names, data.get("people"), "people")
        if start is not None and start < 0:
            errors.append(RowError(line, "start", f"negative start {start:g}", ext))
        if start is not None and end is not None:
            if end <= start:
                errors.append(
                    RowError(line, "end", f"end {end:g} s is not after start {start:g} s", ext)
                )
            elif title is not None and end > title[1].max_seconds:
                errors.append(
                    RowError(
                        line,
                        "end",
                        f"scene ends at {end:g} s, past {title[1].runtime_text()}",
                        ext,
                    )
                )
        if errors or title is None:
            return errors
        return SceneRecord(
            line=line,
            external_id=title[0],
            title_id=title[1].id,
            episode=episode,
            ordinal=ordinal,
            start=start,
            end=end,
            description=description,
            tags=tags,
            characters=characters,
            people=people,
        )


class EngagementValidator(_Base):
    def __init__(self, titles: TitleIndex, scenes: SceneIndex) -> None:
        super().__init__(titles)
        self.scenes = scenes
        self._regions: dict[str, str | None] = {}
        """Region values seen so far -> code (files repeat a handful of regions)."""

    def validate(
        self, data: Mapping[str, Any], line: int
    ) -> EngagementRecord | CurveRecord | list[RowError]:
        if "shares" in data or "resolution_seconds" in data:
            return self._curve(data, line)
        ext = _external_id_of(data)
        if not data.keys() <= ENGAGEMENT_FIELDS:
            unknown = _unknown_fields(data, ENGAGEMENT_FIELDS)
            return [RowError(line, f, "unknown field", ext) for f in unknown]
        errors: list[RowError] = []
        try:
            ext, info = self._title(data)
            episode = self._episode(data, info)
            ordinal = self._ordinal(data)
        except FieldError as exc:
            return [RowError(line, exc.field, exc.reason, ext)]
        scene_id = self.scenes.get((ext, episode, ordinal))
        if scene_id is None:
            where = f"episode {episode} " if episode is not None else ""
            return [
                RowError(
                    line,
                    "ordinal",
                    f"unknown scene {ordinal} in {where}of {ext!r} (ingest its scenes first)",
                    ext,
                )
            ]
        values: dict[str, Any] = {}
        try:
            raw_region = data.get("region")
            if isinstance(raw_region, str) and raw_region in self._regions:
                values["region"] = self._regions[raw_region]
            else:
                values["region"] = self._region(data)
                if isinstance(raw_region, str):
                    self._regions[raw_region] = values["region"]
        except FieldError as exc:
            errors.append(RowError(line, exc.field, exc.reason, ext))
        try:
            values["plays"] = _int(data.get("plays"), "plays")
        except FieldError as exc:
            errors.append(RowError(line, exc.field, exc.reason, ext))
        for rate in RATES:
            try:
                values[rate] = _rate(data.get(rate), rate)
            except FieldError as exc:
                errors.append(RowError(line, exc.field, exc.reason, ext))
        if values.get("plays") is not None and values["plays"] < 0:
            errors.append(RowError(line, "plays", f"negative plays {values['plays']}", ext))
        if errors:
            return errors
        return EngagementRecord(
            line=line,
            external_id=ext,
            episode=episode,
            ordinal=ordinal,
            scene_id=scene_id,
            title_id=info.id,
            **values,
        )

    def _curve(self, data: Mapping[str, Any], line: int) -> CurveRecord | list[RowError]:
        ext = _external_id_of(data)
        unknown = _unknown_fields(data, CURVE_FIELDS)
        if unknown:
            return [RowError(line, f, "unknown field", ext) for f in unknown]
        try:
            ext, info = self._title(data)
            episode = self._episode(data, info)
            region = self._region(data)
            resolution = _int(data.get("resolution_seconds"), "resolution_seconds")
            assert resolution is not None
            if not 1 <= resolution <= 3600:
                raise FieldError("resolution_seconds", f"must be 1..3600, got {resolution}")
            raw = _list(data.get("shares"), "shares")
            if len(raw) < 2:
                raise FieldError("shares", "needs at least two points (at 0 s and later)")
            if len(raw) > MAX_CURVE_POINTS:
                raise FieldError("shares", f"more than {MAX_CURVE_POINTS} points")
            shares = _shares(raw, resolution)
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
            region=region,
            resolution_seconds=resolution,
            shares=tuple(shares),
        )
