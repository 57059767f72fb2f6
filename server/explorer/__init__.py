"""The explorer: a web page at ``/explore`` over the public GraphQL API (static files, with the
JavaScript libraries vendored from npm by ``tools/vendor_explorer.py``), and GraphiQL's
assets served from the package so neither page needs the internet."""
