"""Top 10 chart and viewing-metric records as pydantic models, one validator per kind of value.

``CountryChartInput``, ``GlobalChartInput`` and ``ViewingInput`` describe one line of each file;
their fields are ``Annotated`` types whose validators take the file's text and raise the reason
a user reads (``server.ingest.records``). What one field cannot decide alone stays in
``server.audiences.readers``: the regions table (is the code known, does the country name agree),
relations between fields (period order, fractions) and duplicates across the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from server.ingest.records import FieldError, checked
from server.models.audiences import GLOBAL_CATEGORIES
from server.models.catalog import TitleKind

MAX_TITLE = 300
NOT_APPLICABLE = frozenset({"", "N/A"})
COUNTRY_CATEGORIES = {"Films": TitleKind.MOVIE, "TV": TitleKind.SHOW}
VIEWING_KINDS = {
    "movie": TitleKind.MOVIE,
    "film": TitleKind.MOVIE,
    "films": TitleKind.MOVIE,
    "show": TitleKind.SHOW,
    "tv": TitleKind.SHOW,
    "tv show": TitleKind.SHOW,
}
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def _cell(check: Callable[[str], Any]) -> Any:
    """``checked(check)`` for a check written for a file's text: a missing cell (``None``, as
    a JSON null would be) reads as empty, a number as its text."""

    def on_text(value: Any) -> Any:
        return check("" if value is None else str(value))

    return checked(on_text)


def _present(value: str, *, required: bool) -> str | None:
    """The stripped text, or ``None`` when empty or N/A (an error when ``required``)."""
    value = value.strip()
    if value in NOT_APPLICABLE:
        if required:
            raise FieldError("", "required, empty")
        return None
    return value


def _title(required: bool) -> Any:
    def check(value: str) -> str | None:
        text = _present(value, required=required)
        if text is not None and len(text) > MAX_TITLE:
            raise FieldError("", f"longer than {MAX_TITLE} characters")
        return text

    return _cell(check)


def _whole(low: int, high: int | None, *, required: bool) -> Any:
    def check(value: str) -> int | None:
        text = _present(value, required=required)
        if text is None:
            return None
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                as_float = math.nan
            if not as_float.is_integer():
                raise FieldError("", f"expected a whole number, got {text!r}") from None
            number = int(as_float)
        if number < low or (high is not None and number > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise FieldError("", f"{number} out of range ({bounds})")
        return number

    return _cell(check)


def _number(value: str, *, required: bool) -> float | None:
    text = _present(value, required=required)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise FieldError("", f"expected a number, got {text!r}") from None
    if not math.isfinite(number):
        raise FieldError("", f"expected a finite number, got {text!r}")
    return number


def _required_number(value: str) -> float:
    number = _number(value, required=True)
    assert number is not None  # required: an empty value raised
    return number


def _day(value: str) -> date:
    value = value.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError("", f"expected a date YYYY-MM-DD, got {value!r}") from None


def _country_code(value: str) -> str:
    code = value.strip().upper()
    if not _COUNTRY_CODE.fullmatch(code):
        raise FieldError("", f"expected an ISO 3166-1 alpha-2 code, got {code!r}")
    return code


def _country_category(value: str) -> TitleKind:
    category = value.strip()
    kind = COUNTRY_CATEGORIES.get(category)
    if kind is None:
        raise FieldError("", f"unknown category {category!r} (expected Films or TV)")
    return kind


def _global_category(value: str) -> str:
    category = value.strip()
    if category not in GLOBAL_CATEGORIES:
        expected = ", ".join(GLOBAL_CATEGORIES)
        raise FieldError("", f"unknown category {category!r} (expected one of {expected})")
    return category


def _viewing_kind(value: str) -> TitleKind:
    raw = value.strip()
    kind = VIEWING_KINDS.get(raw.casefold())
    if kind is None:
        raise FieldError("", f"unknown kind {raw!r} (expected MOVIE or SHOW)")
    return kind


def _metric(value: str) -> str:
    metric = value.strip()
    if not _METRIC.fullmatch(metric):
        raise FieldError(
            "", f"expected a lower-case identifier like hours or views, got {metric!r}"
        )
    return metric


def _runtime(value: str) -> float | None:
    hours = _number(value, required=False)
    if hours is not None and hours <= 0:
        raise FieldError("", f"expected hours > 0, got {hours}")
    return hours


def _upper(value: str) -> str:
    return value.strip().upper()


def _stripped(value: str) -> str:
    return value.strip()


def _optional_text(value: str) -> str | None:
    return value.strip() or None


Day = Annotated[date, _cell(_day)]
Rank = Annotated[int, _whole(1, 10, required=True)]
Weeks = Annotated[int | None, _whole(1, None, required=False)]
Count = Annotated[int | None, _whole(0, None, required=False)]
ShowTitle = Annotated[str, _title(required=True)]
SeasonTitle = Annotated[str | None, _title(required=False)]
Stripped = Annotated[str, _cell(_stripped)]


class _Record(BaseModel):
    # Validators return the final values: no second coercion pass, frozen and positional.
    model_config = ConfigDict(frozen=True, extra="ignore", revalidate_instances="never")


class CountryChartInput(_Record):
    """One line of Netflix's ``all-weeks-countries.tsv``."""

    country_name: Stripped
    country_iso2: Annotated[str, _cell(_country_code)]
    week: Day
    category: Annotated[TitleKind, _cell(_country_category)]
    weekly_rank: Rank
    show_title: ShowTitle
    season_title: SeasonTitle
    cumulative_weeks_in_top_10: Weeks


class GlobalChartInput(_Record):
    """One line of Netflix's ``all-weeks-global.tsv``."""

    week: Day
    category: Annotated[str, _cell(_global_category)]
    weekly_rank: Rank
    show_title: ShowTitle
    season_title: SeasonTitle
    weekly_hours_viewed: Count
    runtime: Annotated[float | None, _cell(_runtime)]
    weekly_views: Count
    cumulative_weeks_in_top_10: Weeks

    @property
    def kind(self) -> TitleKind:
        return TitleKind.MOVIE if self.category.startswith("Films") else TitleKind.SHOW


class ViewingInput(_Record):
    """One line of the generic viewing-metric CSV."""

    title: ShowTitle
    kind: Annotated[TitleKind, _cell(_viewing_kind)]
    region: Annotated[str, _cell(_upper)]
    period_start: Day
    period_end: Day
    metric: Annotated[str, _cell(_metric)]
    value: Annotated[float, _cell(_required_number)]
    external_id: Annotated[str | None, _cell(_optional_text)] = None
