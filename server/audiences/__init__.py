"""Audiences: regions, regional viewing (weekly Top 10 charts, generic metrics), regional
scores, country taste profiles, audience cohorts and country comparisons."""
