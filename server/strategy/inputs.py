"""GraphQL input types of content strategy (own module: ``MicroGenre.demand`` takes a
``MarketInput`` too, and the similarity types cannot import the strategy types eagerly)."""

from __future__ import annotations

import datetime

import strawberry

from server.kit.resolving.errors import bad_input
from server.strategy import service


@strawberry.input(description="A market: exactly one of a region or an audience cohort.")
class MarketInput:
    region: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2 code.")
    cohort_id: strawberry.ID | None = strawberry.field(
        default=None, description="An audience cohort id (see `cohorts`)."
    )

    def to_service(self) -> service.Market:
        if (self.region is None) == (self.cohort_id is None):
            raise bad_input("market takes exactly one of region / cohortId", "market")
        if self.region is not None:
            code = self.region.strip().upper()
            if len(code) != 2 or not code.isalpha():
                raise bad_input(
                    f"market.region must be an ISO 3166-1 alpha-2 code like BR, got "
                    f"{self.region!r}",
                    "market.region",
                )
            return service.Market(region=code)
        try:
            number = int(str(self.cohort_id))
        except ValueError:
            raise bad_input(
                f"market.cohortId must be a numeric cohort id, got {self.cohort_id!r}",
                "market.cohortId",
            ) from None
        return service.Market(cohort_id=number)


@strawberry.input(description="Chart weeks from `from` to `to` (week-ending dates, inclusive).")
class DateRangeInput:
    from_: datetime.date | None = strawberry.field(
        default=None, name="from", description="Default: the first chart week."
    )
    to: datetime.date | None = strawberry.field(
        default=None, description="Default: the last chart week."
    )

    def bounds(self) -> tuple[datetime.date | None, datetime.date | None]:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise bad_input(
                f"window is reversed: from {self.from_} is after to {self.to}", "window"
            )
        return self.from_, self.to
