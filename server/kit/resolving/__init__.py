"""What every feature's GraphQL face (``types.py``, ``inputs.py``) resolves with, knowing no
feature: the per-request context and ``Info`` type, error shaping, cursor pagination and
selection-set reading. Part of ``kit`` (the bottom layer), so the features import it
downward; the schema, HTTP endpoint and execution that assemble the features sit above them
in ``server.graphql``."""
