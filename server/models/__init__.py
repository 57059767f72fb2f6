"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from server.db.base import Base
from server.models.auth import ApiKey
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
from server.models.similarity import MicroGenre, TitleMicroGenre, TitlePosition

__all__ = [
    "ApiKey",
    "Base",
    "Country",
    "Credit",
    "CreditRole",
    "EmbeddingProjection",
    "MicroGenre",
    "Person",
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
]
