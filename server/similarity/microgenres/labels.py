"""Naming micro-genres: what over-indexes in a cluster, composed in a readable grammar.

A label reads ``[era] [scope] [origin] [audience] [descriptor] [genre] <head>``, e.g.
"Korean Crime TV Dramas", "Coming-of-age Comedies", "Stand-up Comedy Specials",
"Spanish-Language Drug Cartel Crime TV Shows". Every part comes from a *descriptor*: a
feature of the cluster's titles whose share in the cluster is well above its share in the
whole catalog (the lift), stored with its counts in ``micro_genres.top_tags``:

- ``GENRE``: the head comes from the parent genre, or from a common genre that heads better
  (``GenreSpec.rank``: "Romantic" + "Comedies", "Crime" + "TV Dramas"); other over-indexed
  genres become modifiers ("Action Comedies", "Sci-Fi Action Movies").
- ``ORIGIN`` (first country of origin, or a group of countries) and ``LANGUAGE`` (original
  language, when the catalog has it): "Korean", "Spanish-Language", "Nordic". An origin
  names a cluster only when distinctive (lift >= 3: "American" rarely is).
- ``THEME``/``MOOD``/``SETTING``/``AUDIENCE``/``FORMAT`` tags, when the catalog has them.
- ``KEYWORD``: distinctive words and phrases of the synopses, scored like c-TF-IDF (the
  share of the cluster's synopses using a term against its share in the catalog's). The
  real Netflix catalog has only genres, so these carry most of its labels. Words map onto
  a curated lexicon of concepts (``KEYWORD_CONCEPTS``: "teenagers", "teen", "adolescent" ->
  "Teen"), and a concept may belong to a broader family (``KEYWORD_FAMILIES``: "Gangster",
  "Heist", "Assassin" -> "Crime") that names a cluster whose synopses tell crime in many
  words, unless one member word is itself over-represented; other words (``TERM``) only
  tell clusters apart, and never when they read as proper nouns.
- ``ERA``, ``MATURITY`` and the facet genres "International" and "Indie" only tell clusters
  apart.

A label has the head and at most two optional modifiers. Labels are unique: when clusters
share one, the largest keeps it and the others add their next-best descriptor until they
differ; a numeral is the last resort.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# --- the facts labels are built from -----------------------------------------------------------


@dataclass(frozen=True)
class TitleFacts:
    """What labelling needs to know about one title."""

    title_id: int
    kind: str
    """``MOVIE`` or ``SHOW``."""
    synopsis: str | None = None
    release_year: int | None = None
    maturity_rating: str | None = None
    original_language: str | None = None
    countries: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    """Non-genre tags as ``(kind, name)``."""


@dataclass(frozen=True)
class Descriptor:
    """A feature that over-indexes in a cluster, with the evidence for it."""

    kind: str
    name: str
    """Display form, as it appears in a label ("Korean", "Coming-of-age", "1990s")."""
    titles: int
    """Titles of the cluster carrying it."""
    share: float
    """``titles / cluster size``."""
    lift: float
    """Share in the cluster over share in the catalog."""

    @property
    def score(self) -> float:
        return self.share * math.log(max(self.lift, 1.0))

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "lift": round(self.lift, 3),
            "share": round(self.share, 4),
            "titles": self.titles,
        }


# --- genres ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenreSpec:
    head: str
    """The noun phrase when the genre heads a label ("TV Dramas", "Crime TV Shows")."""
    rank: int = 0
    """How well the genre heads a label when a cluster has several: the highest wins
    ("Romantic" + "Comedies", not "Comedy" + "Romances"). 0: an adjective genre, which only
    heads a label when no genre with a rank is common in the cluster."""
    adjective: str | None = None
    """How the genre modifies the head ("Crime" in "Crime TV Dramas"); ``None``: never."""
    facet: bool = False
    """Says where a title is from or how it was made, not what it is: never a parent genre
    unless it is a title's only genre ("International Movies", "Korean TV Shows")."""
    origin: str | None = None
    """The origin a facet genre implies ("Korean TV Shows": "Korean")."""
    tiebreak_only: bool = False
    """The adjective only tells apart clusters that would share a label ("International")."""


def _facet(head: str, origin: str | None = None) -> GenreSpec:
    return GenreSpec(head, facet=True, origin=origin)


GENRES: dict[str, GenreSpec] = {
    # Netflix's browse genres (the real catalog and the demo generator use these names).
    "Stand-Up Comedy": GenreSpec("Stand-up Comedy Specials", 10),
    "Stand-Up Comedy & Talk Shows": GenreSpec("Stand-up & Talk Shows", 10),
    "Documentaries": GenreSpec("Documentaries", 9),
    "Docuseries": GenreSpec("Docuseries", 9),
    "Reality TV": GenreSpec("Reality TV", 9, "Reality"),
    "Anime Features": GenreSpec("Anime Features", 8, "Anime"),
    "Anime Series": GenreSpec("Anime Series", 8, "Anime"),
    "Comedies": GenreSpec("Comedies", 6),
    "TV Comedies": GenreSpec("TV Comedies", 6),
    "Horror Movies": GenreSpec("Horror Movies", 5, "Horror"),
    "TV Horror": GenreSpec("Horror TV Shows", 5, "Horror"),
    "Thrillers": GenreSpec("Thrillers", 5),
    "TV Thrillers": GenreSpec("TV Thrillers", 5),
    "TV Mysteries": GenreSpec("TV Mysteries", 4, "Mystery"),
    "Action & Adventure": GenreSpec("Action Movies", 3, "Action"),
    "TV Action & Adventure": GenreSpec("Action TV Shows", 3, "Action"),
    "Dramas": GenreSpec("Dramas", 1),
    "TV Dramas": GenreSpec("TV Dramas", 1),
    "Sci-Fi & Fantasy": GenreSpec("Sci-Fi & Fantasy Movies", 0, "Sci-Fi"),
    "TV Sci-Fi & Fantasy": GenreSpec("Sci-Fi & Fantasy TV Shows", 0, "Sci-Fi"),
    "Romantic Movies": GenreSpec("Romantic Movies", 0, "Romantic"),
    "Romantic TV Shows": GenreSpec("Romantic TV Shows", 0, "Romantic"),
    "Crime TV Shows": GenreSpec("Crime TV Shows", 0, "Crime"),
    "Teen TV Shows": GenreSpec("Teen TV Shows", 0, "Teen"),
    "Children & Family Movies": GenreSpec("Family Movies", 0, "Family"),
    "Kids' TV": GenreSpec("Kids' TV", 0, "Kids'"),
    "Music & Musicals": GenreSpec("Music & Musicals", 0, "Music"),
    "Sports Movies": GenreSpec("Sports Movies", 0, "Sports"),
    "Classic Movies": GenreSpec("Classic Movies", 0, "Classic"),
    "Cult Movies": GenreSpec("Cult Movies", 0, "Cult"),
    "Classic & Cult TV": GenreSpec("Classic & Cult TV", 0, "Classic"),
    "Science & Nature TV": GenreSpec("Science & Nature TV", 0, "Science & Nature"),
    "LGBTQ Movies": GenreSpec("LGBTQ Movies", 0, "LGBTQ"),
    "Faith & Spirituality": GenreSpec("Faith & Spirituality Movies", 0, "Faith"),
    "Independent Movies": GenreSpec("Independent Movies", 0, "Indie", True, None, True),
    "International Movies": GenreSpec("Movies", 0, "International", True, None, True),
    "International TV Shows": GenreSpec("TV Shows", 0, "International", True, None, True),
    "Movies": _facet("Movies"),
    "TV Shows": _facet("TV Shows"),
    "British TV Shows": _facet("TV Shows", origin="British"),
    "Korean TV Shows": _facet("TV Shows", origin="Korean"),
    "Spanish-Language TV Shows": _facet("TV Shows", origin="Spanish-Language"),
}

# A few modifiers read differently in front of some heads.
ADJECTIVE_BEFORE: dict[tuple[str, str], str] = {
    ("Crime", "Docuseries"): "True Crime",
    ("Crime", "Documentaries"): "True Crime",
}

_GENRE_SUFFIXES = (" TV Shows", " Movies", " Films", " Shows", " Series")


def genre_spec(name: str) -> GenreSpec:
    """The spec of a known genre; any other heads with its name and modifies with its stem."""
    known = GENRES.get(name)
    if known is not None:
        return known
    stem = name
    for suffix in _GENRE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name.removesuffix(suffix)
            break
    return GenreSpec(name, 2, stem)


def is_facet_genre(name: str) -> bool:
    return genre_spec(name).facet


# --- origins ---------------------------------------------------------------------------------

DEMONYMS: dict[str, str] = {
    "US": "American", "GB": "British", "IN": "Indian", "CA": "Canadian", "JP": "Japanese",
    "FR": "French", "KR": "Korean", "ES": "Spanish", "MX": "Mexican", "AU": "Australian",
    "EG": "Egyptian", "TR": "Turkish", "DE": "German", "CN": "Chinese", "NG": "Nigerian",
    "TW": "Taiwanese", "ID": "Indonesian", "BR": "Brazilian", "PH": "Filipino",
    "HK": "Hong Kong", "AR": "Argentine", "IT": "Italian", "TH": "Thai",
    "ZA": "South African", "CO": "Colombian", "PL": "Polish", "DK": "Danish", "IE": "Irish",
    "NL": "Dutch", "SG": "Singaporean", "LB": "Lebanese", "MY": "Malaysian", "IL": "Israeli",
    "CL": "Chilean", "PK": "Pakistani", "AE": "Emirati", "NO": "Norwegian", "RU": "Russian",
    "SE": "Swedish", "BE": "Belgian", "NZ": "New Zealand", "SA": "Saudi", "RO": "Romanian",
    "AT": "Austrian", "CH": "Swiss", "FI": "Finnish", "IS": "Icelandic", "PT": "Portuguese",
    "GR": "Greek", "CZ": "Czech", "HU": "Hungarian", "UA": "Ukrainian", "JO": "Jordanian",
    "KW": "Kuwaiti", "SY": "Syrian", "MA": "Moroccan", "TN": "Tunisian", "DZ": "Algerian",
    "KE": "Kenyan", "GH": "Ghanaian", "PE": "Peruvian", "VE": "Venezuelan", "UY": "Uruguayan",
    "VN": "Vietnamese", "BD": "Bangladeshi", "NP": "Nepali", "LK": "Sri Lankan",
    "IR": "Iranian", "IQ": "Iraqi", "QA": "Qatari", "CU": "Cuban", "PR": "Puerto Rican",
    "SU": "Soviet", "KH": "Cambodian", "MN": "Mongolian", "BG": "Bulgarian", "RS": "Serbian",
    "HR": "Croatian", "SI": "Slovenian", "SK": "Slovak", "LU": "Luxembourgish",
}  # fmt: skip

COUNTRY_GROUPS: dict[str, frozenset[str]] = {
    "Spanish-Language": frozenset(
        "ES MX AR CO CL PE VE UY CU PR EC BO PY GT HN SV NI CR PA DO".split()
    ),
    "Latin American": frozenset("MX AR CO CL PE VE UY CU PR EC BO PY BR GT CR DO".split()),
    "Arabic-Language": frozenset("EG LB AE SA JO KW SY MA TN DZ IQ QA PS BH OM YE LY".split()),
    "Nordic": frozenset("SE NO DK FI IS".split()),
    "Chinese-Language": frozenset("CN TW HK".split()),
    "German-Language": frozenset("DE AT CH".split()),
    "Southeast Asian": frozenset("TH PH ID MY SG VN KH".split()),
    "African": frozenset("NG ZA KE GH EG MA TN DZ SN CM UG ZW".split()),
}

LANGUAGES: dict[str, str] = {
    "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "ko": "Korean", "ja": "Japanese", "zh": "Chinese", "hi": "Hindi", "ta": "Tamil",
    "te": "Telugu", "ml": "Malayalam", "bn": "Bengali", "mr": "Marathi", "ar": "Arabic",
    "tr": "Turkish", "th": "Thai", "tl": "Filipino", "fil": "Filipino", "id": "Indonesian",
    "sv": "Swedish", "no": "Norwegian", "nb": "Norwegian", "da": "Danish", "fi": "Finnish",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "he": "Hebrew", "yo": "Yoruba",
}  # fmt: skip

# --- synopsis keywords -----------------------------------------------------------------------

# Concepts a label may name, with the words and phrases (lowercase, after the phrase joins
# below) that evoke them. A word belongs to one concept.
KEYWORD_CONCEPTS: dict[str, tuple[str, ...]] = {
    "Teen": ("teen", "teens", "teenage", "teenager", "teenagers", "adolescent", "adolescents"),
    "High School": ("high school", "high schooler", "high schoolers", "prom"),
    "College": ("college", "university", "campus", "fraternity", "sorority", "freshman"),
    "Coming-of-age": ("coming-of-age", "growing-up"),
    "Heist": (
        "heist", "heists", "robbery", "robberies", "robbers", "bank robber", "bank robbers",
        "burglar", "burglars", "con artist", "con artists", "con man", "swindle", "swindling",
        "swindler",
    ),
    "Serial Killer": ("serial killer", "serial killers", "serial murders"),
    "Murder": ("murder", "murders", "murdered", "murderer", "homicide", "killings"),
    "Detective": ("detective", "detectives", "inspector", "sleuth", "investigator"),
    "Police": ("police", "cop", "cops", "policeman", "police officer", "precinct"),
    "True Crime": ("true crime", "cold case", "wrongful conviction", "wrongly convicted"),
    "Gangster": (
        "gangster", "gangsters", "mob", "mobster", "mobsters", "mafia", "gang", "gangs",
        "crime boss", "crime family", "crime lord", "bootlegging", "bootlegger", "bootleggers",
    ),
    "Drug Cartel": (
        "cartel", "cartels", "drug lord", "drug lords", "narco", "drug trafficking",
        "drug dealer", "drug dealers", "cocaine", "smuggler", "smugglers", "smuggling",
    ),
    "Prison": ("prison", "inmate", "inmates", "prisoner", "prisoners", "jail"),
    "Courtroom": ("lawyer", "lawyers", "attorney", "courtroom", "trial", "judge"),
    "Spy": ("spy", "spies", "espionage", "cia", "secret agent", "undercover"),
    "Military": ("soldier", "soldiers", "army", "military", "commando", "special forces", "troops"),
    "War": ("war", "wartime", "world-war-ii", "nazi", "nazis", "battle", "battlefield"),
    "Martial Arts": ("martial arts", "kung fu", "martial artist", "karate", "samurai", "ninja"),
    "Superhero": ("superhero", "superheroes", "superpowers", "super powers"),
    "Zombie": ("zombie", "zombies", "undead"),
    "Vampire": ("vampire", "vampires"),
    "Ghost": ("ghost", "ghosts", "haunted", "haunting", "paranormal", "spirits"),
    "Demonic": ("demon", "demons", "demonic", "possessed", "possession", "exorcism", "exorcist"),
    "Witch": ("witch", "witches", "witchcraft"),
    "Supernatural": ("supernatural",),
    "Monster": ("monster", "monsters", "creature", "creatures"),
    "Alien": ("alien", "aliens", "extraterrestrial"),
    "Space": ("space", "astronaut", "astronauts", "galaxy", "spaceship", "outer space"),
    "Time-Travel": ("time travel", "time-travel", "time traveler"),
    "Dystopian": ("dystopian", "dystopia", "post-apocalyptic", "apocalypse", "apocalyptic"),
    "Robot": ("robot", "robots", "android", "androids", "artificial intelligence"),
    "Dinosaur": ("dinosaur", "dinosaurs"),
    "Dragon": ("dragon", "dragons"),
    "Magical": ("magic", "magical", "wizard", "wizards", "sorcerer", "spell", "spells"),
    "Fairy-Tale": ("princess", "princesses", "fairy", "fairy tale", "fairies", "unicorn"),
    "Royal": ("royal", "kingdom", "throne", "emperor", "empire", "dynasty", "queen", "king"),
    "Period": ("century", "ancient", "historical", "victorian", "medieval", "colonial"),
    "Animal": ("animal", "animals", "pet", "pets", "dog", "dogs", "puppy", "cat", "cats", "horse"),
    "Wildlife": ("wildlife", "species", "habitat", "predators", "ecosystem", "ecosystems"),
    "Ocean": ("ocean", "oceans", "underwater", "marine", "sea creatures"),
    "Holiday": ("christmas", "holiday", "holidays", "santa", "xmas"),
    "Wedding": ("wedding", "weddings", "bride", "groom", "bridal"),
    "Marriage": ("marriage", "married", "husband", "divorce", "newlyweds", "arranged marriage"),
    "Romantic": ("romance", "falls in love", "love story", "romantic", "romances"),
    "Friendship": ("friendship", "best friend", "best friends", "buddy", "buddies"),
    "Road-Trip": ("road trip", "road-trip"),
    "Travel": ("travel", "travels", "traveler", "travelers", "travelogue"),
    "Food": ("food", "chef", "chefs", "cooking", "cook", "cuisine", "restaurant", "baking"),
    "Competition": ("competition", "contestants", "compete", "competing", "contest", "contestant"),
    "Dating": ("dating", "singles", "blind date", "matchmaker"),
    "Makeover": ("makeover", "renovation", "renovate", "interior design", "home makeover"),
    "Concert": ("concert", "live performance", "tour", "on stage", "performances"),
    "Music": ("music", "musician", "musicians", "band", "singer", "singers", "song", "songs"),
    "Hip-Hop": ("hip-hop", "hip hop", "rapper", "rappers", "rap"),
    "Dance": ("dance", "dancer", "dancers", "dancing", "ballet"),
    "Football": ("soccer", "football", "footballer"),
    "Basketball": ("basketball", "nba"),
    "Baseball": ("baseball",),
    "Cricket": ("cricket",),
    "Boxing": ("boxing", "boxer", "boxers"),
    "Wrestling": ("wrestling", "wrestler", "wrestlers"),
    "Racing": ("racing", "race car", "racer", "formula"),
    "Athlete": ("athlete", "athletes", "olympic", "olympics", "coach"),
    "Stand-up": ("comedian", "comedians", "stand-up", "comic", "comedy special"),
    "Talk-Show": ("talk show", "talk-show", "late-night", "celebrity guests"),
    "Political": ("political", "politics", "politician", "president", "election", "government"),
    "Journalism": ("journalist", "journalists", "reporter", "reporters", "newspaper"),
    "Medical": ("doctor", "doctors", "hospital", "medical", "surgeon", "nurse", "nurses"),
    "Faith": ("faith", "god", "church", "jesus", "pastor", "christian", "bible", "prayer"),
    "LGBTQ": ("gay", "lesbian", "queer", "transgender", "lgbtq"),
    "Hacker": ("hacker", "hackers", "hacking", "cyber"),
    "Terrorism": ("terrorist", "terrorists", "terror", "terrorism", "bomb"),
    "Survival": ("survival", "survive", "stranded", "wilderness", "survivors"),
    "Disaster": ("disaster", "earthquake", "tsunami", "hurricane", "volcano"),
    "Revenge": ("revenge", "avenge", "vengeance", "avenges"),
    "Assassin": ("assassin", "assassins", "hitman", "hit man", "contract killer"),
    "Conspiracy": ("conspiracy", "cover-up", "conspiracies"),
    "Corruption": ("corruption", "corrupt"),
    "Kidnapping": ("kidnapping", "kidnapped", "abducted", "abduction", "ransom", "kidnap"),
    "Missing-Person": ("missing", "disappearance", "vanishes", "disappears"),
    "Fashion": ("fashion", "designer", "designers", "model", "models", "beauty"),
    "Art": ("artist", "artists", "painter", "art"),
    "Science": ("science", "scientist", "scientists", "scientific", "experiment"),
    "History": ("history", "historic", "historians"),
    "Nature": ("nature", "natural world", "planet earth"),
    "Climate": ("climate", "climate change", "environmental", "environment"),
    "Tech": ("technology", "internet", "social media", "tech", "online", "video game", "gamer"),
    "Business": ("business", "entrepreneur", "entrepreneurs", "company", "ceo", "startup"),
    "Immigrant": ("immigrant", "immigrants", "migrant", "migrants", "refugee", "refugees"),
    "Small-Town": ("small town", "village", "villagers", "rural", "hometown"),
    "Farm": ("farm", "farmer", "farmers", "ranch"),
    "Animated": ("animated", "animation", "cartoon", "cgi"),
    "Preschool": ("preschool", "preschoolers", "toddler", "toddlers", "little ones", "learn"),
    "Adventure": ("adventure", "adventures", "quest", "treasure", "explorer", "explorers"),
    "Pirate": ("pirate", "pirates"),
    "Western": ("cowboy", "cowboys", "sheriff", "frontier", "western"),
    "Biographical": ("biopic", "true story", "true-story", "life story", "legendary"),
    "Slasher": ("slasher", "masked killer"),
    "Psychological": ("psychological", "obsession", "obsessed", "twisted"),
    "Infidelity": ("affair", "infidelity", "cheating", "mistress"),
    "Addiction": ("addiction", "addict", "drugs", "alcoholic", "rehab"),
    "Mental Health": ("mental health", "mental illness", "depression", "anxiety"),
    "Single-Parent": ("single mother", "single father", "single mom", "single dad"),
    "Kids": ("kid", "kids", "children"),
    "Elderly": ("elderly", "retired", "retirement", "grandmother", "grandfather", "grandpa"),
    "Bollywood": ("bollywood",),
    "Anime": ("anime", "manga"),
    "Pokémon": ("pokémon", "pokemon", "trainer"),
    "Lego": ("lego",),
    "Barbie": ("barbie",),
    "Car": ("car", "cars", "driver", "drivers"),
    "Horror": ("horror", "terrifying", "eerie", "gruesome"),
    "Comedy": ("comedy", "comedic", "hilarious"),
    "Dark-Comedy": ("dark comedy", "black comedy", "satire", "satirical"),
    "Mockumentary": ("mockumentary",),
    "Crime": (
        "crime", "crimes", "criminal", "criminals", "crook", "crooks", "crime ring",
        "underworld", "outlaw", "outlaws",
    ),
    "Mystery": ("mystery", "mysteries", "whodunit"),
    "Hostage": ("hostage", "hostages"),
    "Disability": ("disability", "blind", "deaf", "autism", "wheelchair"),
    "Cult": ("cult", "cults", "sect"),
}  # fmt: skip

# Broader concepts a title also evokes when it evokes one of theirs: a group of crime dramas
# whose synopses speak of a con man, a mob, bootleggers, a hit man and bank robberies has no
# single word in most of them, but is about crime throughout (The Irishman's micro-genre).
KEYWORD_FAMILIES: dict[str, tuple[str, ...]] = {
    "Crime": ("Heist", "Gangster", "Drug Cartel", "Assassin", "Serial Killer"),
}
_FAMILY_OF = {member: family for family, members in KEYWORD_FAMILIES.items() for member in members}

# Multi-word forms folded into one token before counting.
_PHRASES: dict[str, str] = {
    "coming of age": "coming-of-age",
    "grows up": "growing-up",
    "growing up": "growing-up",
    "world war ii": "world-war-ii",
    "world war 2": "world-war-ii",
    "second world war": "world-war-ii",
    "stand up": "stand-up",
    "based on a true story": "true-story",
    "based on the true story": "true-story",
    "true events": "true-story",
}

_GENERIC = frozenset(
    """
    man men woman women young new life lives love world family families father son daughter
    friend friends years year old story stories film films movie movies documentary series
    tv time home group make makes chance falls finds find help lives live living way day days
    takes take gets get comes come begins begin best just wife mother girl girls boy boys
    people person struggles struggle tries try sets set turns turn meets meet decides decide
    goes go face faces must own out up life's hopes hope soon after when while where finds
    learns learn discovers discover leads lead forced force becomes become city town
    country world's small big little local real true good bad great famous former little
    tale tales journey quest fight fights fighting battle battles unlikely unexpected various
    different special episode season show shows featuring features follows follow explores
    explore including include inside past future night nights dark deadly mysterious secret
    secrets dream dreams home house lives fellow friends' wants want need needs plan plans
    work works working job jobs school high help helps save saves saving mission team group
    groups members member town's star stars story's true-story based inspired real-life
    evil power powers couple couples relationship relationships performance performances
    brother brothers sister sisters game games collection stage actor actors actress
    character characters moment moments event events thing things kind sort part place
    """.split()
)

_WORD = re.compile(r"[a-zà-ÿ0-9]+(?:[-'\u2019][a-zà-ÿ0-9]+)*", re.IGNORECASE)
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"s", "t", "don", "isn", "doesn", "won", "ii"}


@dataclass(frozen=True)
class _KeywordIndex:
    concept_of: dict[str, str]
    """Surface form -> concept display."""
    max_len: int


def _keyword_index() -> _KeywordIndex:
    concept_of: dict[str, str] = {}
    for concept, forms in KEYWORD_CONCEPTS.items():
        for form in forms:
            concept_of.setdefault(form, concept)
    return _KeywordIndex(concept_of, max(len(f.split()) for f in concept_of))


_INDEX = _keyword_index()


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Lowercase tokens, each with whether it was capitalised mid-sentence (a proper noun)."""
    out: list[tuple[str, bool]] = []
    sentence_start = True
    for match in _WORD.finditer(text):
        raw = match.group(0).replace("\u2019", "'")
        before = text[max(0, match.start() - 2) : match.start()]
        if out and any(ch in ".!?:" for ch in before):
            sentence_start = True
        word = raw.lower()
        if word.endswith("'s"):
            word = word[:-2]
        out.append((word, raw[:1].isupper() and not sentence_start))
        sentence_start = False
    return out


def _join_phrases(words: list[str]) -> list[str]:
    text = " ".join(words)
    for phrase, joined in _PHRASES.items():
        if phrase in text:
            text = re.sub(rf"\b{re.escape(phrase)}\b", joined, text)
    return text.split()


@dataclass
class KeywordStats:
    """Which terms each synopsis uses, and which free terms read as proper nouns."""

    terms: list[frozenset[str]]
    proper: frozenset[str]

    @classmethod
    def build(cls, synopses: Sequence[str | None]) -> KeywordStats:
        capitalised: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        terms: list[frozenset[str]] = []
        for synopsis in synopses:
            if not synopsis:
                terms.append(frozenset())
                continue
            tokens = _tokens(synopsis)
            for word, upper in tokens:
                seen[word] += 1
                capitalised[word] += upper
            words = _join_phrases([w for w, _ in tokens])
            terms.append(frozenset(_terms_of(words)))
        proper = frozenset(w for w, n in seen.items() if capitalised[w] > 0.5 * n)
        return cls(terms, proper)


def _terms_of(words: list[str]) -> Iterable[str]:
    """Concepts (``c:``) evoked by the words, and free unigrams/bigrams (``w:``) of the words
    no concept took."""
    n = len(words)
    taken = [False] * n
    for i in range(n):
        if taken[i]:  # inside a phrase already matched ("true crime" is not also "crime")
            continue
        for size in range(min(_INDEX.max_len, n - i), 0, -1):
            concept = _INDEX.concept_of.get(" ".join(words[i : i + size]))
            if concept is not None:
                yield f"c:{concept}"
                if concept in _FAMILY_OF:
                    yield f"c:{_FAMILY_OF[concept]}"
                taken[i : i + size] = [True] * size
                break
    free = [not taken[i] and _free_word(words[i]) for i in range(n)]
    for i in range(n):
        if not free[i]:
            continue
        yield f"w:{_singular(words[i])}"
        if i + 1 < n and free[i + 1]:
            yield f"w:{words[i]} {_singular(words[i + 1])}"


def _free_word(word: str) -> bool:
    """A word that may stand alone in a label: no stopword, generic word, verb form or adverb."""
    return (
        len(word) >= 4
        and word.isalpha()
        and word not in _STOP
        and word not in _GENERIC
        and not word.endswith(("ed", "ing", "ly", "es"))
    )


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# --- descriptors of a cluster ----------------------------------------------------------------

KIDS_RATINGS = frozenset({"TV-Y", "TV-Y7", "TV-Y7-FV", "TV-G", "G"})
FAMILY_RATINGS = frozenset({"TV-PG", "PG"})

TAG_DISPLAY: dict[str, str] = {
    # FORMAT and AUDIENCE tags read differently as modifiers.
    "limited series": "Limited-Series",
    "miniseries": "Miniseries",
    "anthology": "Anthology",
    "based on a true story": "True-Story",
    "based on a book": "Book-Adaptation",
    "based on a manga": "Manga-Adaptation",
    "based on a webtoon": "Webtoon-Adaptation",
    "teens": "Teen",
    "kids": "Kids'",
    "adults": "Grown-up",
    "family": "Family",
}

# How strongly each kind of descriptor may name a cluster ("Heist Thrillers" says more than
# "Suspenseful Thrillers"; a lexicon concept more than a free word).
KIND_WEIGHT: dict[str, float] = {
    "THEME": 1.0,
    "SETTING": 0.9,
    "KEYWORD": 0.85,
    "MOOD": 0.7,
    "FORMAT": 0.6,
    "AUDIENCE": 0.5,
    "TERM": 0.5,  # only to tell clusters apart (see plan_label)
}


def display_tag(name: str) -> str:
    if name.casefold() in TAG_DISPLAY:
        return TAG_DISPLAY[name.casefold()]
    return " ".join(w[:1].upper() + w[1:] for w in name.split())


def title_features(title: TitleFacts, keywords: frozenset[str]) -> set[tuple[str, str]]:
    """Every ``(kind, display name)`` feature of one title that a label might use."""
    features: set[tuple[str, str]] = {("KIND", title.kind)}
    features.update(("GENRE", g) for g in title.genres)
    for kind, name in title.tags:
        features.add((kind, display_tag(name)))
    if title.countries:
        first = title.countries[0]
        features.add(("ORIGIN", DEMONYMS.get(first, first)))
        features.update(
            ("ORIGIN", group) for group, codes in COUNTRY_GROUPS.items() if first in codes
        )
    if title.original_language in LANGUAGES:
        features.add(("LANGUAGE", f"{LANGUAGES[title.original_language]}-Language"))
    if title.release_year is not None:
        features.add(("ERA", f"{title.release_year // 10 * 10}s"))
    if title.maturity_rating in KIDS_RATINGS:
        features.add(("MATURITY", "Kids'"))
    elif title.maturity_rating in FAMILY_RATINGS:
        features.add(("MATURITY", "Family"))
    for term in keywords:
        features.add(("KEYWORD" if term.startswith("c:") else "TERM", term[2:]))
    return features


@dataclass(frozen=True)
class Thresholds:
    min_share: float
    min_lift: float
    min_titles: int = 2


# (strict: may name a cluster, relaxed: may tell two clusters apart)
THRESHOLDS: dict[str, tuple[Thresholds, Thresholds]] = {
    "GENRE": (Thresholds(0.35, 1.3), Thresholds(0.25, 1.3)),
    "ORIGIN": (Thresholds(0.5, 1.5), Thresholds(0.35, 1.5)),
    "LANGUAGE": (Thresholds(0.5, 1.5), Thresholds(0.35, 1.5)),
    "ERA": (Thresholds(0.5, 2.0), Thresholds(0.35, 1.5)),
    "MATURITY": (Thresholds(0.6, 1.5), Thresholds(0.5, 1.5)),
    "KIND": (Thresholds(0.8, 1.1), Thresholds(0.8, 1.1)),
    # A synopsis concept names a cluster only when a reader would find it in most of the
    # cluster: at 0.15, "Military" named a group of 24 American dramas because 4 of them
    # were about soldiers (The Irishman's), "Food", "Royal", "Tech" and "Fashion" others;
    # bench/microgenres.py: label precision on 50 sampled micro-genres 26% -> 68% (0.3: 62%).
    "KEYWORD": (Thresholds(0.4, 2.0, 3), Thresholds(0.25, 2.0, 3)),
    "TERM": (Thresholds(0.2, 5.0, 4), Thresholds(0.2, 5.0, 4)),
}
_TAG_THRESHOLDS = (Thresholds(0.25, 1.8), Thresholds(0.15, 1.5))


def descriptors(
    counts: Mapping[tuple[str, str], int],
    size: int,
    catalog: Mapping[tuple[str, str], int],
    catalog_size: int,
    *,
    relaxed: bool = False,
    proper: frozenset[str] = frozenset(),
) -> list[Descriptor]:
    """Features over-indexed in a cluster of ``size`` titles, strongest first."""
    found = []
    for (kind, name), count in counts.items():
        if kind == "TERM" and any(w in proper for w in name.split()):
            continue
        share = count / size
        base = catalog.get((kind, name), count) / catalog_size
        lift = share / base if base > 0 else 1.0
        rule = THRESHOLDS.get(kind, _TAG_THRESHOLDS)[relaxed]
        if count >= rule.min_titles and share >= rule.min_share and lift >= rule.min_lift:
            display = name.title() if kind == "TERM" else name
            found.append(Descriptor(kind, display, count, share, lift))
    found.sort(key=lambda d: (-d.score, d.kind, d.name))
    return found


# --- composing labels ------------------------------------------------------------------------

SLOTS = ("era", "scope", "origin", "maturity", "descriptor", "genre", "head")
"""Order of the parts in a label."""
DISTINCT_ORIGIN_LIFT = 3.0
"""An origin names a cluster only when this distinctive ("Korean" yes, "American" only to
tell two clusters apart: a third of the real catalog is American)."""
HEAD_SHARE = 0.5
"""A genre heads instead of the parent when at least this share of the cluster has it."""

Part = tuple[str, str, Descriptor | None]
"""(slot, text, evidence)"""


@dataclass
class LabelPlan:
    """The parts of one cluster's label, and further parts held back to tell it apart."""

    parts: dict[str, list[str]]
    extras: list[Part] = field(default_factory=list)
    used: list[Descriptor] = field(default_factory=list)

    def render(self) -> str:
        return " ".join(w for slot in SLOTS for w in self.parts.get(slot, []))

    def add(self, slot: str, text: str, evidence: Descriptor | None) -> bool:
        if _overlaps(text, self.render()) or (slot == "scope" and "origin" in self.parts):
            return False
        self.parts.setdefault(slot, []).append(text)
        if evidence is not None:
            self.used.append(evidence)
        return True

    def extend(self) -> bool:
        """Add the next held-back part; false when none is left."""
        while self.extras:
            if self.add(*self.extras.pop(0)):
                return True
        return False


_MINOR_WORDS = frozenset({"and", "the", "tv", "movies", "shows", "series"})


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:5] for w in words if len(w) >= 3 and w not in _MINOR_WORDS}


def _overlaps(text: str, label: str) -> bool:
    return bool(_stems(text) & _stems(label))


def _origins(found: Sequence[Descriptor]) -> list[Descriptor]:
    """Origin descriptors, single countries before groups and languages."""
    origins = [d for d in found if d.kind in ("ORIGIN", "LANGUAGE")]
    countries = set(DEMONYMS.values())
    return sorted(origins, key=lambda d: (d.name not in countries, -d.score))


def plan_label(
    parent: str | None,
    strong: Sequence[Descriptor],
    weak: Sequence[Descriptor] = (),
    show_share: float = 0.0,
) -> LabelPlan:
    """Head, modifiers and held-back parts of a cluster's label.

    ``strong`` descriptors may name the cluster, ``weak`` ones (relaxed thresholds) only
    tell it apart from a cluster with the same label.
    """
    spec = genre_spec(parent) if parent else None
    genres = {d.name: d for d in strong if d.kind == "GENRE"}
    head_genre = parent
    if spec is None:
        head = "TV Shows" if show_share >= 0.5 else "Movies"
    else:
        rank = spec.rank
        for name, d in genres.items():
            g = genre_spec(name)
            if name != parent and not g.facet and g.rank > rank and d.share >= HEAD_SHARE:
                head_genre, rank = name, g.rank
        head = genre_spec(head_genre).head if head_genre else spec.head
    plan = LabelPlan({"head": [head]})
    if head_genre != parent and head_genre in genres:
        plan.used.append(genres[head_genre])

    def adjective(name: str) -> str | None:
        a = genre_spec(name).adjective
        return ADJECTIVE_BEFORE.get((a, head), a) if a else None

    # Structural parts: the parent's adjective when another genre heads ("Crime" TV Dramas),
    # and the origin a facet parent implies ("Korean TV Shows").
    if spec is not None and head_genre != parent and (parent_adjective := adjective(parent or "")):
        plan.add("genre", parent_adjective, None)
    if spec is not None and spec.origin:
        plan.add("origin", spec.origin, None)

    options: list[tuple[float, Part]] = []
    for name, d in genres.items():
        text = adjective(name)
        if name not in (parent, head_genre) and not genre_spec(name).tiebreak_only and text:
            options.append((d.score, ("genre", text, d)))
    origins = _origins(strong)
    if origins and "origin" not in plan.parts:
        o = origins[0]
        weight = 1.0 if o.lift >= DISTINCT_ORIGIN_LIFT else 0.0
        options.append((o.score * weight, ("origin", o.name, o)))
    for d in strong:
        if d.kind in KIND_WEIGHT:
            # Free synopsis words only tell clusters apart (they name one well now and then,
            # but "Mouse Thrillers" or "Patient Horror Movies" is too often the result).
            weight = 0.0 if d.kind == "TERM" else KIND_WEIGHT[d.kind]
            options.append((d.score * weight, ("descriptor", d.name, d)))
    options.sort(key=lambda o: -o[0])

    # At most two optional modifiers, one when the genre part is already structural.
    room = 1 if "genre" in plan.parts else 2
    held: list[Part] = []
    optional = 0
    for score, part in options:
        slot = part[0]
        if score > 0 and optional < room and slot not in plan.parts and plan.add(*part):
            optional += 1
        else:
            held.append(part)
    words = [p for p in held if p[2] is not None and p[2].kind == "TERM"]
    plan.extras = [p for p in held if p not in words]
    plan.extras += _weak_parts(weak, strong, {parent, head_genre}, adjective)
    if plan.parts.keys() == {"head"}:
        plan.extend()  # a bare genre says little about the cluster: add what there is
    plan.extras += words
    return plan


def _weak_parts(
    weak: Sequence[Descriptor],
    strong: Sequence[Descriptor],
    skip_genres: set[str | None],
    adjective: Callable[[str], str | None],
) -> list[Part]:
    """Parts that may tell a cluster apart: weaker descriptors, era, audience, origin."""
    known = {(d.kind, d.name) for d in strong if d.kind != "GENRE"}
    parts: list[tuple[float, Part]] = []
    for d in weak:
        if (d.kind, d.name) in known or d.kind == "TERM":
            continue
        if d.kind == "GENRE":
            text = adjective(d.name)
            if text and d.name not in skip_genres:
                if genre_spec(d.name).tiebreak_only:
                    parts.append((d.score * 0.3, ("scope", text, d)))
                else:
                    parts.append((d.score * 0.8, ("genre", text, d)))
        elif d.kind in KIND_WEIGHT:
            parts.append((d.score * KIND_WEIGHT[d.kind], ("descriptor", d.name, d)))
        elif d.kind == "ERA":
            parts.append((d.score, ("era", d.name, d)))
        elif d.kind == "MATURITY":
            parts.append((d.score * 0.5, ("maturity", d.name, d)))
    for d in _origins(weak)[:1]:
        if (d.kind, d.name) not in known:
            parts.append((d.score, ("origin", d.name, d)))
    parts.sort(key=lambda p: -p[0])
    return [p for _, p in parts]


_NUMERALS = ("II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def unique_labels(plans: Sequence[LabelPlan], sizes: Sequence[int]) -> list[str]:
    """Render every plan, extending colliding ones until the labels differ.

    In a collision the largest cluster keeps the label and every other one adds its next
    held-back part; a numeral is the last resort.
    """
    for _ in range(8):
        groups: dict[str, list[int]] = {}
        for index, plan in enumerate(plans):
            groups.setdefault(plan.render().casefold(), []).append(index)
        changed = False
        for members in groups.values():
            # The largest cluster keeps the label; the others say more.
            for index in sorted(members, key=lambda i: (-sizes[i], i))[1:]:
                changed |= plans[index].extend()
        if not changed:
            break
    labels = [p.render() for p in plans]
    out = list(labels)
    taken = {label.casefold() for label in labels}
    seen: Counter[str] = Counter()
    for index in sorted(range(len(plans)), key=lambda i: (-sizes[i], i)):
        key = labels[index].casefold()
        seen[key] += 1
        if seen[key] == 1:
            continue
        for numeral in _NUMERALS:
            candidate = f"{labels[index]} {numeral}"
            if candidate.casefold() not in taken:
                out[index] = candidate
                taken.add(candidate.casefold())
                break
        else:  # pragma: no cover - more than ten identical clusters
            out[index] = f"{labels[index]} ({index})"
    return out


@dataclass(frozen=True)
class ClusterLabel:
    label: str
    parent_genre: str | None
    top_tags: list[dict[str, Any]]


def _without_covered_families(
    strong: list[Descriptor], weak: list[Descriptor]
) -> tuple[list[Descriptor], list[Descriptor]]:
    """A family ("Crime") describes a cluster only when none of its members ("Gangster") is
    over-represented there even at the relaxed thresholds: the member is the more telling
    word ("Gangster Thrillers", never "Crime Gangster Thrillers")."""
    covered = {_FAMILY_OF[d.name] for d in weak if d.kind == "KEYWORD" and d.name in _FAMILY_OF}

    def keep(found: list[Descriptor]) -> list[Descriptor]:
        return [d for d in found if not (d.kind == "KEYWORD" and d.name in covered)]

    return keep(strong), keep(weak)


def label_clusters(
    titles: Sequence[TitleFacts],
    assignment: Sequence[int],
    parents: Sequence[str | None],
    *,
    max_top_tags: int = 10,
) -> list[ClusterLabel]:
    """Labels for clusters ``0..len(parents)-1``; ``parents[c]`` is cluster c's parent genre."""
    keywords = KeywordStats.build([t.synopsis for t in titles])
    features = [title_features(t, keywords.terms[i]) for i, t in enumerate(titles)]
    catalog: Counter[tuple[str, str]] = Counter()
    for f in features:
        catalog.update(f)
    members: list[list[int]] = [[] for _ in parents]
    for index, cluster in enumerate(assignment):
        members[cluster].append(index)
    plans: list[LabelPlan] = []
    evidence: list[list[Descriptor]] = []
    for cluster, parent in enumerate(parents):
        counts: Counter[tuple[str, str]] = Counter()
        for index in members[cluster]:
            counts.update(features[index])
        size = max(len(members[cluster]), 1)
        args = (counts, size, catalog, len(titles))
        strong = descriptors(*args, proper=keywords.proper)
        weak = descriptors(*args, relaxed=True, proper=keywords.proper)
        strong, weak = _without_covered_families(strong, weak)
        plans.append(plan_label(parent, strong, weak, counts[("KIND", "SHOW")] / size))
        evidence.append([d for d in strong if d.kind != "KIND"])
    labels = unique_labels(plans, [len(m) for m in members])
    out = []
    for cluster, label in enumerate(labels):
        used = list(dict.fromkeys(plans[cluster].used))
        rest = [d for d in evidence[cluster] if d not in used]
        top = (used + rest)[:max_top_tags]
        out.append(ClusterLabel(label, parents[cluster], [d.as_json() for d in top]))
    return out
