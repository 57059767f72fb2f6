"""Country names in catalog data -> ISO 3166-1 alpha-2 codes.

The project maintains its own country table in ``server/kit/data/countries.csv``
(columns ``code,name,aliases``; aliases are ``|``-separated). It lists every current
ISO 3166-1 alpha-2 country under its commonly used short English name, plus the
aliases that show up in catalog data (official long forms, former names of renamed
countries, "Korea, Republic of"-style inverted forms, ...). Edit the CSV, not this
module, when a new spelling turns up.

Historic countries that no longer exist (Soviet Union, East Germany, Yugoslavia,
Serbia and Montenegro) get their own rows under the alpha-2 code ISO 3166-3 keeps
reserved for them (``SU``, ``DD``, ``YU``, ``CS``), so a film produced in the USSR is
not re-attributed to Russia. "West Germany" is an alias of ``DE`` (reunified Germany
is the same state). Countries that were merely renamed (Burma, Zaire, Swaziland, ...)
are aliases of the current code.

Matching is case-insensitive and ignores accents, surrounding and repeated
whitespace and a leading "the ". A value that is a known two-letter code resolves to
itself. Unknown names resolve to ``None``: callers must report them (so the table can
be extended), never drop them silently.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["CountryInfo", "CountryResolver", "normalize_country_name"]

_CODE_RE = re.compile(r"^[A-Z]{2}$")
_HEADER = ["code", "name", "aliases"]
_ALIAS_SEPARATOR = "|"
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


@dataclass(frozen=True)
class CountryInfo:
    """One row of the country table: ISO alpha-2 code and display name."""

    code: str
    name: str


def normalize_country_name(value: str) -> str:
    """Matching key for a country name.

    Case-folded, accents removed (NFKD, combining marks dropped), typographic
    apostrophes unified, whitespace trimmed and collapsed, leading "the " removed.
    """
    text = unicodedata.normalize("NFKD", value.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = " ".join(text.translate(_APOSTROPHES).split())
    return text.removeprefix("the ")


class CountryResolver:
    """Resolves country codes, names and aliases to ISO 3166-1 alpha-2 codes."""

    def __init__(self, rows: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """Build from ``(code, name, aliases)`` rows.

        Raises ``ValueError`` for a malformed code, a duplicate code, an empty name,
        or a name/alias that (after normalization) points at two different codes.
        """
        self._countries: dict[str, CountryInfo] = {}
        self._by_name: dict[str, str] = {}
        for code, name, aliases in rows:
            if not _CODE_RE.match(code):
                raise ValueError(f"invalid country code {code!r}")
            if code in self._countries:
                raise ValueError(f"duplicate country code {code!r}")
            if not name.strip():
                raise ValueError(f"country {code} has an empty name")
            self._countries[code] = CountryInfo(code=code, name=name.strip())
            for label in (name, *aliases):
                key = normalize_country_name(label)
                if not key:
                    raise ValueError(f"country {code} has an empty alias")
                other = self._by_name.setdefault(key, code)
                if other != code:
                    raise ValueError(f"country name {label!r} is used by both {other} and {code}")

    @classmethod
    def from_csv_text(cls, text: str) -> CountryResolver:
        """Build from the text of a ``code,name,aliases`` CSV file."""
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != _HEADER:
            raise ValueError(f"country table header must be {','.join(_HEADER)}, got {header!r}")
        rows: list[tuple[str, str, list[str]]] = []
        for line_no, record in enumerate(reader, start=2):
            if not record or all(not field.strip() for field in record):
                continue
            if len(record) not in (2, 3):
                raise ValueError(f"country table line {line_no}: expected 2 or 3 fields")
            code, name = record[0].strip(), record[1].strip()
            raw_aliases = record[2] if len(record) == 3 else ""
            aliases = [a.strip() for a in raw_aliases.split(_ALIAS_SEPARATOR) if a.strip()]
            rows.append((code, name, aliases))
        return cls(rows)

    @classmethod
    def default(cls) -> CountryResolver:
        """The resolver for the packaged ``data/countries.csv`` (loaded once, cached)."""
        return _default_resolver()

    def resolve(self, value: str) -> str | None:
        """ISO alpha-2 code for a code, name or alias; ``None`` if unknown."""
        stripped = value.strip()
        if len(stripped) == 2 and stripped.isascii() and stripped.isalpha():
            code = stripped.upper()
            if code in self._countries:
                return code
        key = normalize_country_name(stripped)
        if not key:
            return None
        return self._by_name.get(key)

    def info(self, code: str) -> CountryInfo:
        """Table entry for an alpha-2 code (any case); ``KeyError`` if unknown."""
        normalized = code.strip().upper()
        try:
            return self._countries[normalized]
        except KeyError:
            raise KeyError(code) from None

    def all(self) -> list[CountryInfo]:
        """Every entry of the table, sorted by code."""
        return sorted(self._countries.values(), key=lambda info: info.code)


@cache
def _default_resolver() -> CountryResolver:
    table = resources.files("server.kit") / "data" / "countries.csv"
    return CountryResolver.from_csv_text(table.read_text(encoding="utf-8"))
