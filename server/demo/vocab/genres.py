"""Genres (a streaming service's browse categories), maturity ratings and the catalog's years."""

from __future__ import annotations

from typing import Final, Literal

Kind = Literal["MOVIE", "SHOW"]
Audience = Literal["kids", "family", "teens", "adults"]
Gender = Literal["f", "m", "n"]

LAST_YEAR: Final = 2026  # the latest release year in the catalog

# --------------------------------------------------------------------------------------------
# Genres (modelled on a streaming service's browse categories)
# --------------------------------------------------------------------------------------------

MOVIE_GENRES: Final = (
    "Dramas",
    "Comedies",
    "Action & Adventure",
    "Thrillers",
    "Horror Movies",
    "Romantic Movies",
    "Documentaries",
    "Children & Family Movies",
    "Sci-Fi & Fantasy",
    "Anime Features",
    "Stand-Up Comedy",
    "International Movies",
    "Independent Movies",
    "Music & Musicals",
    "Sports Movies",
    "Classic Movies",
)
SHOW_GENRES: Final = (
    "Crime TV Shows",
    "Kids' TV",
    "Reality TV",
    "Teen TV Shows",
    "Docuseries",
    "Korean TV Shows",
    "Spanish-Language TV Shows",
    "British TV Shows",
    "TV Comedies",
    "TV Dramas",
    "TV Thrillers",
    "Romantic TV Shows",
    "International TV Shows",
    "TV Sci-Fi & Fantasy",
    "TV Action & Adventure",
    "TV Mysteries",
    "Anime Series",
)
GENRES: Final = MOVIE_GENRES + SHOW_GENRES
INTERNATIONAL_GENRE: Final = {"MOVIE": "International Movies", "SHOW": "International TV Shows"}

# Genres that may be added as noise to a title of another archetype. Identity-like genres
# (documentary, reality, stand-up, anime, kids, country-of-origin) never appear as noise.
NOISE_GENRES: Final = {
    "MOVIE": (
        "Dramas",
        "Comedies",
        "Action & Adventure",
        "Thrillers",
        "Romantic Movies",
        "Independent Movies",
        "Sci-Fi & Fantasy",
        "Music & Musicals",
    ),
    "SHOW": (
        "TV Dramas",
        "TV Comedies",
        "TV Thrillers",
        "Romantic TV Shows",
        "TV Mysteries",
        "TV Sci-Fi & Fantasy",
        "TV Action & Adventure",
        "Teen TV Shows",
    ),
}
KID_SAFE_NOISE_GENRES: Final = {
    "MOVIE": ("Comedies", "Action & Adventure", "Sci-Fi & Fantasy", "Music & Musicals"),
    "SHOW": ("TV Comedies", "TV Sci-Fi & Fantasy", "TV Action & Adventure"),
}

# --------------------------------------------------------------------------------------------
# Maturity ratings
# --------------------------------------------------------------------------------------------

TV_RATINGS: Final = ("TV-Y", "TV-Y7", "TV-G", "TV-PG", "TV-14", "TV-MA")
MPAA_RATINGS: Final = ("G", "PG", "PG-13", "R", "NR")
RATINGS: Final = TV_RATINGS + MPAA_RATINGS
KIDS_RATINGS: Final = ("TV-Y", "TV-Y7", "G", "PG")
# A streaming original film is often rated on the TV scale; this maps the film rating across.
MPAA_TO_TV: Final = {"G": "TV-G", "PG": "TV-PG", "PG-13": "TV-14", "R": "TV-MA", "NR": "NR"}
