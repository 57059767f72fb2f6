"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from server.db.base import Base
from server.models.audiences import (
    ChartName,
    Cohort,
    CohortMember,
    GlobalScore,
    Region,
    RegionalScore,
    RegionGenre,
    RegionMicroGenre,
    RegionTaste,
    Top10CountryWeek,
    Top10GlobalWeek,
    ViewingMetric,
)
from server.models.catalog import (
    Country,
    Credit,
    CreditRole,
    Person,
    Tag,
    TagKind,
    TagSource,
    Title,
    TitleCountry,
    TitleKind,
    TitleTag,
)
from server.models.embeddings import EmbeddingProjection, TitleEmbedding
from server.models.forecast import Backtest, ForecastModel
from server.models.similarity import MicroGenre, TitleMicroGenre, TitlePosition

__all__ = [
    "Backtest",
    "Base",
    "ChartName",
    "Cohort",
    "CohortMember",
    "Country",
    "Credit",
    "CreditRole",
    "EmbeddingProjection",
    "ForecastModel",
    "GlobalScore",
    "MicroGenre",
    "Person",
    "Region",
    "RegionGenre",
    "RegionMicroGenre",
    "RegionTaste",
    "RegionalScore",
    "Tag",
    "TagKind",
    "TagSource",
    "Title",
    "TitleCountry",
    "TitleEmbedding",
    "TitleKind",
    "TitleMicroGenre",
    "TitlePosition",
    "TitleTag",
    "Top10CountryWeek",
    "Top10GlobalWeek",
    "ViewingMetric",
]
