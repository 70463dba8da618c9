"""black, in process, plus the checks that the result is valid Python."""

from __future__ import annotations


def format_source(source: str) -> str:
    """Format with black and make sure the result parses (a failure is a plxgen bug)."""
    import black  # imported here: only compiling needs it, and it is the slowest import

    # black's defaults: what `black train.py` in a user's repository does.
    formatted: str = black.format_str(source, mode=black.Mode())
    compile(formatted, "<generated script>", "exec")
    return formatted
