"""Benchmark: do micro-genre labels hold for the titles they group?

    python bench/microgenres.py --url URL [--sample 50] [--seed 14] [--show]

``URL`` names a database holding the embedded catalog (``contentintel embed`` done; the real
one: ``../shared/data/netflix_titles.csv`` with MiniLM). Clusters it (``contentintel cluster``,
inside a transaction that is rolled back) and prints:

- the invariants: number of micro-genres (>= 100), the largest's share (<= 5%), unique labels;
- the micro-genre of "The Irishman" with its ten most central titles;
- **label precision** on a seeded sample of ``--sample`` micro-genres: the share whose label
  holds for at least 8 of its 10 most central titles. "Holds" is checked lexically: the title
  carries every descriptor of ``top_tags`` whose name is part of the label (its genre, a
  synopsis concept such as "Military" or "Teen", an origin, a language), computed as the
  labeller computes them (``title_features``). That is stricter than a reader in one way (a
  reader accepts "Crime" for a hitman story whose synopsis never says "crime") and laxer in
  another (it trusts the words): ``--show`` prints every sampled group to read along.

Nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CENTRAL = 10
ACCEPT = 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import text

    from server.db.engine import make_engine
    from server.similarity.microgenres.clustering import cluster_catalog, load_titles
    from server.similarity.microgenres.labels import KeywordStats, title_features

    engine = make_engine(args.url)
    with engine.connect() as conn, conn.begin() as transaction:
        summary = cluster_catalog(conn)
        groups = conn.execute(
            text("SELECT id, label, size, top_tags FROM micro_genres ORDER BY id")
        ).all()
        labels = [g.label for g in groups]
        print(
            f"{len(groups)} micro-genres over {summary.titles:,} titles; largest "
            f"{summary.largest_share:.1%} ({summary.largest_label!r}); unique labels: "
            f"{len(set(labels)) == len(labels)}; clustered in {summary.seconds:.0f} s"
        )
        titles = load_titles(conn)
        keywords = KeywordStats.build([t.synopsis for t in titles])
        features = {t.title_id: title_features(t, keywords.terms[i]) for i, t in enumerate(titles)}
        names = dict(conn.execute(text("SELECT id, name FROM titles")).all())

        def central(group_id: int) -> list[int]:
            return [
                int(r[0])
                for r in conn.execute(
                    text(
                        "SELECT title_id FROM title_micro_genres WHERE micro_genre_id = :g "
                        "AND is_primary ORDER BY similarity DESC, title_id LIMIT :n"
                    ),
                    {"g": group_id, "n": CENTRAL},
                )
            ]

        def in_label(group: object) -> list[tuple[str, str]]:
            label = str(group.label).casefold()  # type: ignore[attr-defined]
            return [
                (str(t["kind"]), str(t["name"]))
                for t in group.top_tags  # type: ignore[attr-defined]
                if str(t["name"]).casefold() in label
            ]

        def holds(group: object) -> tuple[int, list[tuple[str, str]], list[int]]:
            evidence = in_label(group)
            ids = central(int(group.id))  # type: ignore[attr-defined]
            ok = sum(all(e in features.get(t, set()) for e in evidence) for t in ids)
            return ok, evidence, ids

        irishman = conn.execute(
            text(
                "SELECT g.id FROM titles t JOIN title_micro_genres m ON m.title_id = t.id "
                "AND m.is_primary JOIN micro_genres g ON g.id = m.micro_genre_id "
                "WHERE t.name = 'The Irishman'"
            )
        ).scalar()
        for group in groups:
            if group.id == irishman:
                ok, evidence, ids = holds(group)
                print(
                    f'\n"The Irishman" is in "{group.label}" ({group.size} titles): '
                    f"label holds for {ok}/{len(ids)} central titles, evidence {evidence}"
                )
                print("   " + "; ".join(names[t] for t in ids))

        sample = sorted(
            random.Random(args.seed).sample(list(groups), args.sample), key=lambda g: g.id
        )
        accepted = 0
        for group in sample:
            ok, evidence, ids = holds(group)
            accepted += ok >= ACCEPT
            if args.show:
                mark = "ok " if ok >= ACCEPT else "NO "
                print(f"{mark} {ok:2d}/{len(ids)} {group.label} {evidence}")
                print("      " + "; ".join(names[t] for t in ids))
        print(
            f"\nlabel precision: {accepted}/{len(sample)} = {accepted / len(sample):.0%} of "
            f"sampled micro-genres hold for >= {ACCEPT} of their {CENTRAL} most central titles"
        )
        transaction.rollback()
    engine.dispose()


if __name__ == "__main__":
    main()
