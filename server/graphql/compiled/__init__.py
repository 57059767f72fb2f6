"""Compiled hot paths: a query made only of ``title``, ``titleByExternalId`` and ``titles``
with a selection Postgres can build is answered by one SQL statement that returns the
response's JSON (as PostGraphile and pg_graphql do), after the same validation, limits and
cost checks as any operation; everything else runs on graphql-core's executor, unchanged.

``plan`` (the selection analyser) decides and collects the parameters, ``sql`` turns the
shape into what the catalog reads (``server.catalog.compiled`` builds the SQL, cached per
shape), ``run`` executes it; ``tests/graphql/test_compiled.py`` runs a set of
queries both ways and compares the answers byte for byte.
"""
