"""Development tools that are not part of the ``server`` package (import contracts)."""
