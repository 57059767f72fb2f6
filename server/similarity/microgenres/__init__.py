"""Micro-genres: fine-grained clusters of the title space, nested under broad genres.

``clustering`` groups embedded titles (and lays out the similarity map), ``labels`` names
each group from what over-indexes in it, ``service`` reads them back for the API,
``loaders`` batches those reads per request and ``types`` are their GraphQL types.
"""
