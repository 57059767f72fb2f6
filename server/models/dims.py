"""Vector sizes of each facet; fixed per column (pgvector needs it for indexes)."""

TEXT_DIM = 384
"""Raw text embedding (all-MiniLM-L6-v2 and the hashing embedder both give 384)."""
PROJECTED_DIM = 64
"""Synopsis projected onto the catalog's genre structure (zero-padded when fewer genres)."""
SYNOPSIS_DIM = TEXT_DIM + PROJECTED_DIM
TAGS_DIM = 256
METADATA_DIM = 64
COMBINED_DIM = SYNOPSIS_DIM + TAGS_DIM + METADATA_DIM
