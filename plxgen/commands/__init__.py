"""The subcommands beyond compile, check and validate."""
