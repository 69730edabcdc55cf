"""Opinions: units' written replies and residents' comments on a draft."""
