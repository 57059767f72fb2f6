"""The similarity tests' ``embed`` fixture (embeds inside the async test transaction)."""

from tests.similarity.conftest import embed  # noqa: F401
