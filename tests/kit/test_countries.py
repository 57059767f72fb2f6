"""Tests for the maintained country table and its resolver (no database)."""

from __future__ import annotations

import csv
import re
from importlib import resources

import pytest

from server.kit.countries import CountryInfo, CountryResolver, normalize_country_name

# Every country name that occurs in the real catalog data.
REAL_DATA_NAMES = [
    "Afghanistan", "Albania", "Algeria", "Angola", "Argentina", "Armenia", "Australia",
    "Austria", "Azerbaijan", "Bahamas", "Bangladesh", "Belarus", "Belgium", "Bermuda",
    "Botswana", "Brazil", "Bulgaria", "Burkina Faso", "Cambodia", "Cameroon", "Canada",
    "Cayman Islands", "Chile", "China", "Colombia", "Croatia", "Cuba", "Cyprus",
    "Czech Republic", "Denmark", "Dominican Republic", "East Germany", "Ecuador", "Egypt",
    "Ethiopia", "Finland", "France", "Georgia", "Germany", "Ghana", "Greece", "Guatemala",
    "Hong Kong", "Hungary", "Iceland", "India", "Indonesia", "Iran", "Iraq", "Ireland",
    "Israel", "Italy", "Jamaica", "Japan", "Jordan", "Kazakhstan", "Kenya", "Kuwait",
    "Latvia", "Lebanon", "Liechtenstein", "Lithuania", "Luxembourg", "Malawi", "Malaysia",
    "Malta", "Mauritius", "Mexico", "Mongolia", "Montenegro", "Morocco", "Mozambique",
    "Namibia", "Nepal", "Netherlands", "New Zealand", "Nicaragua", "Nigeria", "Norway",
    "Pakistan", "Palestine", "Panama", "Paraguay", "Peru", "Philippines", "Poland",
    "Portugal", "Puerto Rico", "Qatar", "Romania", "Russia", "Samoa", "Saudi Arabia",
    "Senegal", "Serbia", "Singapore", "Slovakia", "Slovenia", "Somalia", "South Africa",
    "South Korea", "Soviet Union", "Spain", "Sri Lanka", "Sudan", "Sweden", "Switzerland",
    "Syria", "Taiwan", "Thailand", "Turkey", "Uganda", "Ukraine", "United Arab Emirates",
    "United Kingdom", "United States", "Uruguay", "Vatican City", "Venezuela", "Vietnam",
    "West Germany", "Zimbabwe",
]  # fmt: skip

CODE_RE = re.compile(r"^[A-Z]{2}$")


@pytest.fixture(scope="module")
def resolver() -> CountryResolver:
    return CountryResolver.default()


@pytest.fixture(scope="module")
def csv_rows() -> list[dict[str, str]]:
    table = resources.files("server.kit") / "data" / "countries.csv"
    text = table.read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    assert reader.fieldnames == ["code", "name", "aliases"]
    return list(reader)


@pytest.mark.parametrize("name", REAL_DATA_NAMES)
def test_every_real_data_name_resolves(resolver: CountryResolver, name: str) -> None:
    code = resolver.resolve(name)
    assert code is not None, f"{name!r} does not resolve"
    assert CODE_RE.match(code)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("West Germany", "DE"),
        ("Germany", "DE"),
        ("Soviet Union", "SU"),
        ("USSR", "SU"),
        ("East Germany", "DD"),
        ("German Democratic Republic", "DD"),
        ("Yugoslavia", "YU"),
        ("Serbia and Montenegro", "CS"),
        ("Serbia", "RS"),
        ("south korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("  United   States ", "US"),
        ("United States of America", "US"),
        ("USA", "US"),
        ("us", "US"),
        ("US", "US"),
        ("gb", "GB"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("Turkey", "TR"),
        ("Curaçao", "CW"),
        ("Curacao", "CW"),
        ("CURAÇAO", "CW"),
        ("Czechia", "CZ"),
        ("Russian Federation", "RU"),
        ("Viet Nam", "VN"),
        ("Holy See", "VA"),
        ("State of Palestine", "PS"),
        ("the Netherlands", "NL"),
        ("The  Bahamas", "BS"),
        ("C\u00f4te d\u2019Ivoire", "CI"),
        ("cote d'ivoire", "CI"),
    ],
)
def test_specific_mappings(resolver: CountryResolver, value: str, expected: str) -> None:
    assert resolver.resolve(value) == expected


@pytest.mark.parametrize("value", ["Atlantis", "", "   ", "XX", "xx", "the", "United"])
def test_unknown_values_resolve_to_none(resolver: CountryResolver, value: str) -> None:
    assert resolver.resolve(value) is None


def test_info_and_all(resolver: CountryResolver) -> None:
    assert resolver.info("DE") == CountryInfo(code="DE", name="Germany")
    assert resolver.info("su") == CountryInfo(code="SU", name="Soviet Union")
    with pytest.raises(KeyError):
        resolver.info("XX")
    entries = resolver.all()
    codes = [entry.code for entry in entries]
    assert codes == sorted(codes)
    assert len(entries) >= 249


def test_default_is_cached() -> None:
    assert CountryResolver.default() is CountryResolver.default()


def test_csv_has_at_least_249_rows(csv_rows: list[dict[str, str]]) -> None:
    assert len(csv_rows) >= 249


def test_csv_codes_are_valid_and_unique(csv_rows: list[dict[str, str]]) -> None:
    codes = [row["code"] for row in csv_rows]
    bad = [code for code in codes if not CODE_RE.match(code)]
    assert not bad, f"malformed codes: {bad}"
    assert len(codes) == len(set(codes)), "duplicate codes"
    assert {"SU", "DD", "YU", "CS"} <= set(codes)


def test_csv_names_and_aliases_are_unique(csv_rows: list[dict[str, str]]) -> None:
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for row in csv_rows:
        aliases = [a for a in (row["aliases"] or "").split("|") if a]
        for label in [row["name"], *aliases]:
            assert label, f"{row['code']}: empty label"
            assert label == label.strip(), f"{row['code']}: bad label {label!r}"
            key = label.casefold()
            if key in seen:
                duplicates.append(f"{label!r} ({seen[key]} and {row['code']})")
            seen[key] = row["code"]
    assert not duplicates, f"duplicate names: {duplicates}"


def test_csv_normalized_names_do_not_conflict(csv_rows: list[dict[str, str]]) -> None:
    owner: dict[str, str] = {}
    conflicts: list[str] = []
    for row in csv_rows:
        aliases = [a for a in (row["aliases"] or "").split("|") if a]
        for label in [row["name"], *aliases]:
            key = normalize_country_name(label)
            other = owner.setdefault(key, row["code"])
            if other != row["code"]:
                conflicts.append(f"{label!r} ({other} and {row['code']})")
    assert not conflicts, f"conflicting names: {conflicts}"


def test_normalize_country_name() -> None:
    assert normalize_country_name("  The   Gambia ") == "gambia"
    assert normalize_country_name("Réunion") == "reunion"
    assert normalize_country_name("Theodoria") == "theodoria"


def test_conflicting_alias_is_rejected() -> None:
    with pytest.raises(ValueError, match="used by both"):
        CountryResolver([("AA", "Alpha", ["Shared"]), ("BB", "Beta", ["shared"])])


def test_from_csv_text_rejects_bad_header() -> None:
    with pytest.raises(ValueError, match="header"):
        CountryResolver.from_csv_text("iso,country\nDE,Germany\n")
