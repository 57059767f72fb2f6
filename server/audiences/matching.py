"""Match chart names (``show_title`` + kind) to catalog titles.

Rules, in order, for each distinct (name, kind):

1. **Exact**: the normalised name (lower case, accents removed, ``&`` read as "and",
   apostrophes dropped, punctuation and spaces removed, so "Spider-Man" = "Spiderman" and
   "S.W.A.T." = "SWAT") equals a catalog title's, of the same kind (Films -> MOVIE,
   TV -> SHOW). One such title: matched. Several: the one whose name also has the same word
   boundaries if there is exactly one ("Start-Up" vs "StartUp"), else ``ambiguous``. None of
   that kind but some of the other kind: ``kind_mismatch``.
2. **Fuzzy**: trigram similarity of the normalised names >= ``FUZZY_THRESHOLD``, same kind,
   and the same numbers in both names ("The Kissing Booth 3" never matches "... 2"). The best
   candidate wins; several at the best similarity: ``ambiguous``. Only number-mismatched
   candidates: ``number_mismatch``. Nothing: ``no_candidate``.

A name already matched by hand (``chart_names.method = 'manual'``) is kept as is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

FUZZY_THRESHOLD = 0.85
"""Minimum trigram similarity of normalised names for a fuzzy match. High on purpose: on the
real Top 10 data every pair between 0.6 and 0.8 was a different title ("House of Wax" /
"House of Z", "The Holiday" / "Holiday in the Wild"); spelling variants that only differ in
punctuation, accents or spacing are caught by the exact rule already."""
_CANDIDATE_FLOOR = 0.5
"""Trigram prefilter (``%``): candidates below the threshold are kept for the report."""
_MAX_CANDIDATES = 5


def normalized_sql(column: str) -> str:
    """SQL for the normalised matching key of ``column`` (see the module docstring)."""
    return (
        "btrim(regexp_replace(regexp_replace(regexp_replace(lower(unaccent("
        f"{column})), '&', ' and ', 'g'), '[''\u2019`]', '', 'g'), '[^a-z0-9]+', ' ', 'g'))"
    )


_NUMBERS = re.compile(r"\d+")


def numbers(key: str) -> tuple[str, ...]:
    return tuple(sorted(n.lstrip("0") or "0" for n in _NUMBERS.findall(key)))


@dataclass(frozen=True)
class Candidate:
    title_id: int
    name: str
    kind: str
    similarity: float

    def as_json(self) -> dict[str, Any]:
        return {
            "title_id": self.title_id,
            "name": self.name,
            "kind": self.kind,
            "similarity": round(self.similarity, 3),
        }


@dataclass
class Match:
    show_title: str
    kind: str
    title_id: int | None = None
    method: str | None = None
    similarity: float | None = None
    reason: str | None = None
    detail: str | None = None
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.title_id is not None:
            return "matched"
        return "ambiguous" if self.reason == "ambiguous" else "unmatched"


# Fresh tables on every call (dropped first): an index built on a table that was updated or
# truncated earlier in the same transaction may be unusable to that transaction (broken HOT
# chains, indcheckxmin), which turns the trigram probes into scans (seconds, not milliseconds).
# For the same reason the keys are computed on insert, never by a later UPDATE.
_PREPARE = f"""
DROP TABLE IF EXISTS pg_temp.match_titles, pg_temp.match_names;
CREATE TEMP TABLE match_titles (
    id bigint, kind title_kind, name text, key text, compact text
) ON COMMIT DROP;
CREATE TEMP TABLE match_names (
    show_title text, kind title_kind, key text, compact text, fuzzy boolean DEFAULT false
) ON COMMIT DROP;
INSERT INTO match_titles (id, kind, name, key, compact)
SELECT id, kind, name, k, replace(k, ' ', '')
FROM (SELECT id, kind, name, {normalized_sql("name")} AS k FROM titles) t;
CREATE INDEX match_titles_compact_idx ON match_titles (compact);
CREATE INDEX match_titles_trgm_idx ON match_titles USING gin (key gin_trgm_ops);
ANALYZE match_titles;
"""


def match_names(conn: Connection, names: Iterable[tuple[str, str]]) -> list[Match]:
    """Match ``(show_title, kind)`` pairs (kind ``MOVIE``/``SHOW``) against the catalog."""
    pairs = sorted(set(names))
    if not pairs:
        return []
    conn.execute(text(_PREPARE))
    conn.execute(
        text("INSERT INTO match_names (show_title, kind) VALUES (:s, CAST(:k AS title_kind))"),
        [{"s": s, "k": k} for s, k in pairs],
    )
    conn.execute(text(f"UPDATE match_names SET key = {normalized_sql('show_title')}"))
    conn.execute(text("UPDATE match_names SET compact = replace(key, ' ', '')"))
    keys = {
        (r.show_title, r.kind): r.key
        for r in conn.execute(text("SELECT show_title, kind::text AS kind, key FROM match_names"))
    }

    exact: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    spaced: set[tuple[str, str, int]] = set()
    for r in conn.execute(
        text(
            "SELECT n.show_title, n.kind::text AS kind, t.id, t.name, t.kind::text AS tkind, "
            "t.key = n.key AS spaced "
            "FROM match_names n JOIN match_titles t ON t.compact = n.compact AND n.compact <> '' "
            "ORDER BY t.id"
        )
    ):
        exact[(r.show_title, r.kind)].append(Candidate(r.id, r.name, r.tkind, 1.0))
        if r.spaced:
            spaced.add((r.show_title, r.kind, r.id))

    results: dict[tuple[str, str], Match] = {}
    fuzzy: list[tuple[str, str]] = []
    for show, kind in pairs:
        match = Match(show, kind)
        results[(show, kind)] = match
        same = [c for c in exact.get((show, kind), []) if c.kind == kind]
        if len(same) > 1:
            # "Start-Up" and "StartUp" share a compact key; word boundaries break the tie.
            by_words = [c for c in same if (show, kind, c.title_id) in spaced]
            if len(by_words) == 1:
                same = by_words
        other = [c for c in exact.get((show, kind), []) if c.kind != kind]
        if len(same) == 1:
            match.title_id, match.method, match.similarity = same[0].title_id, "exact", 1.0
            match.candidates = same
        elif len(same) > 1:
            match.reason = "ambiguous"
            match.detail = f"{len(same)} catalog {kind} titles have this exact name"
            match.candidates = same[:_MAX_CANDIDATES]
        elif other:
            match.reason = "kind_mismatch"
            match.detail = (
                f"the catalog has it as {other[0].kind} (id {other[0].title_id}), "
                f"the chart lists a {kind}"
            )
            match.candidates = other[:_MAX_CANDIDATES]
        else:
            fuzzy.append((show, kind))

    if fuzzy:
        conn.execute(
            text(
                "UPDATE match_names SET fuzzy = true WHERE (show_title, kind::text) IN "
                "(SELECT * FROM unnest(CAST(:s AS text[]), CAST(:k AS text[])))"
            ),
            {"s": [s for s, _ in fuzzy], "k": [k for _, k in fuzzy]},
        )
        conn.execute(text("ANALYZE match_names"))
        conn.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {_CANDIDATE_FLOOR}"))
        found: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        for r in conn.execute(
            text(
                "SELECT n.show_title, n.kind::text AS kind, t.id, t.name, t.sim "
                "FROM match_names n CROSS JOIN LATERAL ("
                "  SELECT id, name, similarity(key, n.key) AS sim FROM match_titles"
                "  WHERE key % n.key AND kind = n.kind) t "
                "WHERE n.fuzzy ORDER BY t.sim DESC, t.id"
            )
        ):
            found[(r.show_title, r.kind)].append(Candidate(r.id, r.name, r.kind, float(r.sim)))
        conn.execute(text("RESET pg_trgm.similarity_threshold"))
        for show, kind in fuzzy:
            _decide_fuzzy(results[(show, kind)], keys[(show, kind)], found.get((show, kind), []))
    return [results[p] for p in pairs]


def _decide_fuzzy(match: Match, key: str, candidates: list[Candidate]) -> None:
    above = [c for c in candidates if c.similarity >= FUZZY_THRESHOLD]
    match.candidates = candidates[:_MAX_CANDIDATES]
    if not above:
        match.reason = "no_candidate"
        match.detail = (
            f"best catalog candidate {candidates[0].name!r} at similarity "
            f"{candidates[0].similarity:.2f} < {FUZZY_THRESHOLD}"
            if candidates
            else "no catalog title of this kind with a similar name"
        )
        return
    wanted = numbers(key)
    keyed = [(c, _key(c.name)) for c in above]
    same_numbers = [c for c, k in keyed if numbers(k) == wanted]
    if not same_numbers:
        match.reason = "number_mismatch"
        match.detail = f"similar name {above[0].name!r} has different numbers"
        return
    best = same_numbers[0].similarity
    tied = [c for c in same_numbers if abs(c.similarity - best) < 1e-6]
    if len(tied) > 1:
        match.reason = "ambiguous"
        match.detail = f"{len(tied)} catalog titles tie at similarity {best:.2f}"
        match.candidates = tied[:_MAX_CANDIDATES]
        return
    match.title_id, match.method, match.similarity = tied[0].title_id, "fuzzy", best


def _key(name: str) -> str:
    """Python twin of ``normalized_sql`` for the numbers check (digits are unaffected by
    accents, so a plain lower-case split is enough here)."""
    return " ".join(re.split(r"[^a-z0-9]+", name.lower())).strip()
