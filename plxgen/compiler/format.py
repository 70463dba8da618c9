"""black, in process, on the whole script, through its public API; then a parse check."""

from __future__ import annotations

from typing import Any


def black_mode() -> Any:
    """black's defaults, with the Python versions that run the scripts named.

    Naming them spares black inferring them from each file, and keeps the
    layout the same whichever syntax a script happens to use.
    """
    import black  # imported here: only formatting needs it, and it is the slowest import
    from black.mode import TargetVersion

    return black.Mode(
        target_versions={
            version
            for version in TargetVersion
            if version.value >= TargetVersion.PY310.value
        }
    )


def format_source(source: str) -> str:
    """Format with black and make sure the result parses (a failure is a plxgen bug)."""
    import black

    formatted: str = black.format_str(source, mode=black_mode())
    compile(formatted, "<generated script>", "exec")
    return formatted
