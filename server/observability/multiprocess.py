"""Where the metrics of several worker processes meet.

Apart from ``metrics`` because prometheus_client chooses its multiprocess mode when it is
imported: ``serve`` names the directory before anything imports the library, and the forked
workers inherit that choice.
"""

from __future__ import annotations

import os

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory shared by the worker processes, when there are several."""
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None
