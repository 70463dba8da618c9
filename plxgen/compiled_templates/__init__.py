"""Templates compiled ahead of time (`python -m plxgen.precompile`)."""
