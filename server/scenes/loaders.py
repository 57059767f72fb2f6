"""Per-request DataLoaders of the scene fields of ``Title`` (built on first use by
``Context.loaders``)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from server.kit.loaders import RunInSession, batch_loader
from server.scenes import service
from server.scenes.service import Curve, SceneRow, Summary


class SceneLoaders:
    def __init__(self, run: RunInSession) -> None:
        self.of_title: DataLoader[tuple[int, int | None, int], list[SceneRow]] = batch_loader(
            run, service.scenes_for_keys
        )
        self.curve: DataLoader[tuple[int, int | None, str | None], Curve | None] = batch_loader(
            run, service.curves_for_keys
        )
        self.summary: DataLoader[int, Summary | None] = batch_loader(
            run, service.summaries_for_titles
        )
