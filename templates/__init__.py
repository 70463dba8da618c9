"""Jinja templates of the generated scripts (a data package of plxgen)."""
