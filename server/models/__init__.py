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

__all__ = [
    "Base",
    "Country",
    "Credit",
    "CreditRole",
    "Person",
    "Tag",
    "TagKind",
    "TagSource",
    "Title",
    "TitleCountry",
    "TitleKind",
    "TitleTag",
]
