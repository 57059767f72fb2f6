"""Compiled hot paths: a query made only of ``title``, ``titleByExternalId``, ``titles``,
``similarTitles`` and ``searchTitles`` with a selection Postgres can build is answered by
one SQL statement that returns the response's JSON (as PostGraphile and pg_graphql do),
after the same validation, limits and cost checks as any operation; everything else runs on
graphql-core's executor, unchanged.

``plan`` (the selection analyser) decides and collects the parameters, ``sql`` turns the
shape into what the features read (``server.catalog.compiled``, ``server.similarity.compiled``
and ``compiled_search`` build the SQL, cached per shape), ``run`` executes it (embedding a
search's query first); ``tests/graphql/test_compiled.py``, ``tests/similarity/
test_compiled_similar.py`` and ``test_search.py`` run sets of queries both ways and compare
the answers byte for byte.
"""
