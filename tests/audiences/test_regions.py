"""The regions table seeded by migration 0003."""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from server.kit.countries import CountryResolver


def test_regions_are_countries_with_group_and_languages(conn: Connection) -> None:
    rows = conn.execute(text("SELECT code, name, region_group, languages FROM regions")).all()
    assert len(rows) == 94
    resolver = CountryResolver.default()
    for code, name, group, languages in rows:
        assert resolver.info(code).name == name
        assert group in {"LATAM", "EMEA", "APAC", "UCAN"}
        assert languages
        assert all(re.fullmatch("[a-z]{2}", lang) for lang in languages)
    by_code = {r.code: r for r in rows}
    assert by_code["US"].region_group == "UCAN"
    assert by_code["CA"].languages == ["en", "fr"]
    assert by_code["KR"].region_group == "APAC"
    assert by_code["KR"].languages == ["ko"]
    assert by_code["BR"].region_group == "LATAM"
    assert by_code["BR"].languages == ["pt"]
    assert by_code["NG"].region_group == "EMEA"
