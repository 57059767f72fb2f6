"""Learned comparables: which titles share an audience, predicted from content alone."""
