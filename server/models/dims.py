"""Vector sizes of each facet; fixed per column (pgvector needs it for indexes)."""

TEXT_DIM = 384
"""Raw text embedding (all-MiniLM-L6-v2 and the hashing embedder both give 384)."""
PROJECTED_DIM = 64
"""Synopsis projected onto the catalog's genre structure (zero-padded when fewer genres)."""
SYNOPSIS_DIM = TEXT_DIM + PROJECTED_DIM
TAGS_DIM = 256
METADATA_DIM = 64
PEOPLE_DIM = 256
"""Cast and directors (idf-weighted random projection)."""
COMBINED_DIM = SYNOPSIS_DIM + TAGS_DIM + METADATA_DIM + PEOPLE_DIM
COMPARABLE_DIM = 128
"""Learned comparables: a title's audience profile (observed, or predicted from its content) in a
basis of the regions (zero-padded: up to 128 regions are represented exactly)."""
