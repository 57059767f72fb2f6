"""One sub-app per feature: ``app`` holds its top-level commands, ``ingest_app`` (where
there is one) its ``ingest …`` commands; ``server.cli.main`` assembles them."""
