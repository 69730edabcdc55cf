"""Consultations: a draft published for comment, parsed into its parts."""
