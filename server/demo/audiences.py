"""Synthetic regional Top 10 charts for the demo world, with the structure of the real ones.

Each week, every region ranks the titles "in release" by appeal =
popularity x home bias x language spill-over x region-group spill-over x decay x noise:

- **home bias**: x ``HOME`` in a title's countries of origin;
- **language spill-over**: x ``LANGUAGE`` where the title's original language is spoken
  (Spanish titles travel across Latin America and Spain);
- **neighbourhood spill-over**: x ``NEIGHBOURS`` in the title's origin's spill-over area
  (``SPILL``: Korean and Japanese titles chart across East & Southeast Asia, Indian titles in
  South Asia and the Gulf, Turkish titles in the Middle East, ...), else x ``GROUP`` in the
  origin's region group;
- a few **global hits** (x ``GLOBAL_HIT`` everywhere);
- each title is in release for a few weeks from a random week, decaying by ``DECAY`` a week.

Films and TV are ranked separately (top 10 each); the global Top 10 (four lists, English and
Non-English) ranks titles by appeal summed over regions, with hours viewed proportional to it.
The charts go through the real ingest (``ingest_viewing_bytes``), so scores, matching and
unmatched reporting are exercised as with Netflix's files. Random numbers come from
``sub_rng(seed, "audiences")``: the catalog itself is unchanged.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, Engine, text

from server.audiences.ingest import ingest_viewing_bytes
from server.audiences.readers import COUNTRY_COLUMNS, GLOBAL_COLUMNS
from server.kit.rng import sub_rng
from server.strategy.pipeline import rescore

PLANTED_REGION = "BR"
PLANTED_ORIGINS = ("SE", "NO", "DK")
PLANTED_BOOST = 40.0
PLANTED_APPEAL = 60.0
"""The planted gap: Nordic shows (Nordic Noir, a small micro-genre of the catalog) are pulled
x ``PLANTED_BOOST`` in Brazil, and those not otherwise in release get a Brazil-only release
(appeal ``PLANTED_APPEAL``, decaying like the rest, staggered starts), so
``contentGaps(market: {region: "BR"})`` has an under-supplied, high-demand micro-genre to find
(a test checks it ranks first)."""
WEEKS = 16
LAST_WEEK = date(2026, 10, 25)  # a Sunday, like Netflix's chart weeks
IN_RELEASE = 0.3
"""Share of the catalog released during the chart window."""
HOME, LANGUAGE, NEIGHBOURS, GROUP, GLOBAL_HIT = 10.0, 3.0, 4.0, 1.6, 12.0
DECAY = 0.72
GLOBAL_HITS = 8

_LATAM_SPANISH = (
    "AR",
    "CO",
    "CL",
    "PE",
    "EC",
    "VE",
    "UY",
    "PY",
    "BO",
    "CR",
    "PA",
    "GT",
    "HN",
    "SV",
    "NI",
    "DO",
)
"""Spanish-speaking Latin America besides Mexico: where Spanish-language titles travel."""

SPILL: Mapping[str, tuple[str, ...]] = {
    # East & Southeast Asia: the Korea/Thailand-led cohort of the real data.
    "KR": ("KR", "TH", "TW", "HK", "SG", "MY", "PH", "ID", "VN", "JP"),
    "JP": ("JP", "KR", "TW", "HK", "SG", "MY", "PH", "TH", "VN"),
    "TH": ("TH", "KR", "TW", "HK", "SG", "MY", "PH", "ID", "VN"),
    "IN": ("IN", "PK", "BD", "LK", "MV", "AE", "SA", "QA", "KW", "OM", "BH", "MU", "KE"),
    "TR": ("TR", "AE", "SA", "QA", "KW", "OM", "BH", "JO", "LB", "EG", "MA", "CY"),
    "EG": ("EG", "AE", "SA", "QA", "KW", "OM", "BH", "JO", "LB", "MA"),
    "NG": ("NG", "KE", "ZA", "JM", "TT", "BS"),
    "ES": ("ES", "MX", *_LATAM_SPANISH),
    "MX": ("MX", "ES", *_LATAM_SPANISH),
    "BR": ("BR", "PT"),
    "FR": ("FR", "BE", "CH", "LU", "RE", "GP", "MQ", "NC", "MA"),
    "US": ("US", "CA", "GB", "IE", "AU", "NZ"),
    "GB": ("GB", "IE", "US", "CA", "AU", "NZ"),
}


@dataclass(frozen=True)
class _Title:
    name: str
    film: bool
    countries: tuple[str, ...]
    language: str | None


@dataclass(frozen=True)
class DemoChartsSummary:
    country_rows: int
    global_rows: int
    matched_names: int
    names: int


def generate_charts(
    titles: Sequence[_Title], regions: Mapping[str, tuple[str, list[str], str]], seed: int
) -> tuple[str, str]:
    """(countries TSV, global TSV) for ``regions`` (code -> (name, languages, group))."""
    rng = sub_rng(seed, "audiences")
    weeks = [LAST_WEEK - timedelta(weeks=WEEKS - 1 - w) for w in range(WEEKS)]
    released = [t for t in titles if rng.random() < IN_RELEASE]
    start = {t.name: rng.randrange(-3, WEEKS) for t in released}
    popularity = {t.name: math.exp(rng.gauss(0, 0.8)) for t in released}
    for t in rng.sample(released, min(GLOBAL_HITS, len(released))):
        popularity[t.name] *= GLOBAL_HIT
    group_of = {code: group for code, (_, _, group) in regions.items()}

    def affinity(t: _Title, code: str) -> float:
        _, languages, group = regions[code]
        value = popularity[t.name]
        if code in t.countries:
            value *= HOME
        if t.language and t.language in languages:
            value *= LANGUAGE
        origin = t.countries[0] if t.countries else None
        if origin is not None and code in SPILL.get(origin, ()):
            value *= NEIGHBOURS
        elif origin and group_of.get(origin) == group:
            value *= GROUP
        if code == PLANTED_REGION and not t.film and origin in PLANTED_ORIGINS:
            value *= PLANTED_BOOST
        return value

    base = {(t.name, code): affinity(t, code) for t in released for code in regions}
    in_release = {t.name for t in released}
    planted = [
        (t, (3 * n) % WEEKS - 2)
        for n, t in enumerate(
            t
            for t in titles
            if not t.film
            and t.countries[:1]
            and t.countries[0] in PLANTED_ORIGINS
            and t.name not in in_release
        )
    ]
    country_lines = ["\t".join(COUNTRY_COLUMNS)]
    totals: dict[tuple[int, str], float] = defaultdict(float)
    streak: Counter[tuple[str, str]] = Counter()
    for w, week in enumerate(weeks):
        live = [t for t in released if 0 <= w - start[t.name] < 6]
        for code in sorted(regions):
            for film in (True, False):
                scored = []
                for t in live:
                    if t.film is not film:
                        continue
                    value = base[(t.name, code)] * DECAY ** (w - start[t.name])
                    value *= math.exp(rng.gauss(0, 0.35))
                    scored.append((value, t.name))
                    totals[(w, t.name)] += value
                if code == PLANTED_REGION and not film:
                    # Regional releases of the planted gap: no random draws, so every other
                    # region's charts stay exactly as without it.
                    scored += [
                        (PLANTED_APPEAL * DECAY ** (w - first), t.name)
                        for t, first in planted
                        if 0 <= w - first < 6
                    ]
                scored.sort(reverse=True)
                for rank, (_, name) in enumerate(scored[:10], start=1):
                    streak[(code, name)] += 1
                    country_lines.append(
                        "\t".join(
                            (
                                regions[code][0],
                                code,
                                week.isoformat(),
                                "Films" if film else "TV",
                                str(rank),
                                name,
                                "N/A",
                                str(streak[(code, name)]),
                            )
                        )
                    )
    by_name = {t.name: t for t in released}
    global_lines = ["\t".join(GLOBAL_COLUMNS)]
    global_streak: Counter[str] = Counter()
    for w, week in enumerate(weeks):
        lists: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for (wk, name), value in totals.items():
            if wk != w:
                continue
            t = by_name[name]
            english = "English" if t.language == "en" else "Non-English"
            lists[f"{'Films' if t.film else 'TV'} ({english})"].append((value, name))
        for category in sorted(lists):
            ranked = sorted(lists[category], reverse=True)[:10]
            for rank, (value, name) in enumerate(ranked, start=1):
                global_streak[name] += 1
                global_lines.append(
                    "\t".join(
                        (
                            week.isoformat(),
                            category,
                            str(rank),
                            name,
                            "N/A",
                            str(int(value * 100_000)),
                            "",
                            "",
                            str(global_streak[name]),
                        )
                    )
                )
    return "\n".join(country_lines) + "\n", "\n".join(global_lines) + "\n"


def seed_demo_charts(conn: Connection, seed: int) -> DemoChartsSummary | None:
    """Generate and ingest the demo charts when there are none (one transaction, the caller's).
    Regional scores are computed by the ingest."""
    if conn.execute(text("SELECT EXISTS (SELECT 1 FROM top10_country_weeks)")).scalar():
        return None
    rows = conn.execute(
        text(
            "SELECT t.name, t.kind::text AS kind, t.original_language, "
            "coalesce(array_agg(tc.country_code ORDER BY tc.position) "
            "FILTER (WHERE tc.country_code IS NOT NULL), '{}') AS countries "
            "FROM titles t LEFT JOIN title_countries tc ON tc.title_id = t.id "
            "GROUP BY t.id ORDER BY t.id"
        )
    ).all()
    counts = Counter((r.name, r.kind) for r in rows)
    titles = [
        _Title(r.name, r.kind == "MOVIE", tuple(r.countries), r.original_language)
        for r in rows
        if counts[(r.name, r.kind)] == 1 and len(r.name) <= 300
    ]
    regions = {
        r.code: (r.name, list(r.languages), r.region_group)
        for r in conn.execute(text("SELECT code, name, languages, region_group FROM regions"))
    }
    countries, global_ = generate_charts(titles, regions, seed)
    country = ingest_viewing_bytes(
        conn, countries, "top10-countries", source="demo charts", rescore=rescore
    )
    glob = ingest_viewing_bytes(
        conn, global_, "top10-global", source="demo global charts", rescore=rescore
    )
    return DemoChartsSummary(
        country.accepted, glob.accepted, country.matches.matched, country.matches.names
    )


def refresh_demo_audiences(engine: Engine) -> str:
    """Taste profiles and cohorts of the demo world (after embeddings and micro-genres)."""
    from server.audiences.profiles import compute_cohorts
    from server.strategy.pipeline import recompute_strategy

    with engine.begin() as conn:
        summary = compute_cohorts(conn)
        strategy = recompute_strategy(conn)  # gaps need the micro-genres and cohorts
    return (
        f"content strategy: {strategy.gaps:,} gap rows over {strategy.markets} markets; "
        f"audiences: {summary.profiles.regions} regions profiled, {summary.k} cohorts: "
        + "; ".join(c.label for c in summary.cohorts[:6])
    )


def refresh_demo_comparables(conn: Connection, *, refit: bool) -> str:
    """The learned comparables (``similarTitles(mode: COMPARABLES)``) of the demo world: fitted
    when there are none yet or ``refit`` (embeddings changed)."""
    from server.similarity.comparables.service import fit_comparables

    fitted = conn.execute(text("SELECT EXISTS (SELECT 1 FROM title_comparables)")).scalar()
    if fitted and not refit:
        return "learned comparables: up to date"
    try:
        with conn.begin_nested():
            summary = fit_comparables(conn)
    except ValueError as exc:  # no charting titles to learn from
        return f"learned comparables skipped: {exc}"
    return (
        f"learned comparables v{summary.version}: {summary.training_titles:,} charting titles, "
        f"{summary.vectors:,} title vectors"
    )
