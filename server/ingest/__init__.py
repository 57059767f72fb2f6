"""The one ingest kit every file ingest (catalog, Top 10 charts, viewing metrics, scenes,
engagement) is built on.

A file goes read -> validate -> stage -> merge -> summary:

- ``files`` opens it (``InputFileError`` when it cannot be read at all) and tells its format;
- ``readers`` turn bytes into numbered records (CSV/TSV with a checked header, JSONL), keeping
  exact line numbers and rejecting a row, not the file, for an undecodable byte;
- ``rows`` holds what a row becomes on the way: ``RawRow``, ``RowError``, ``RowWarning``;
- ``records`` maps a pydantic ``ValidationError`` onto ``RowError``s (line, field, reason);
- ``flow`` is the skeleton: rejects file, strict mode, the session settings of a bulk load;
- ``copy`` stages rows with COPY (or executemany on an async driver) and ``bulk`` applies the
  bulk-load rule to tables with HNSW indexes;
- ``summary`` holds the counts every ingest summary derives the same way.

Features own their formats (columns, validation rules, merge SQL); the kit knows none of them.
"""
