"""The ``contentintel`` command line (console script ``contentintel = server.cli:app``).

Layers, bottom to top: shared helpers that know no feature (``console``, ``options``,
``progress``, ``runtime``, ``ingesting``); one sub-app per feature under ``commands/``, each
importing only those helpers and its feature; ``main`` assembles them into ``app``. Nothing
below imports anything above it, so there is no import cycle.
"""

from server.cli.main import app, main

__all__ = ["app", "main"]
