"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from server.db.base import Base
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
from server.models.scenes import (
    RetentionCurve,
    Scene,
    SceneEmbedding,
    SceneEngagement,
    ScenePerson,
    SceneTag,
    SceneTagLink,
)
from server.models.similarity import MicroGenre, TitleMicroGenre, TitlePosition

__all__ = [
    "Base",
    "Country",
    "Credit",
    "CreditRole",
    "EmbeddingProjection",
    "MicroGenre",
    "Person",
    "RetentionCurve",
    "Scene",
    "SceneEmbedding",
    "SceneEngagement",
    "ScenePerson",
    "SceneTag",
    "SceneTagLink",
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
