"""What the converters of `plxgen data` share: the SOURCE argument, the 2017 split, Batches."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from plxgen.data.datasets import Options
from plxgen.errors import UserError

# (split, framed records) in the order they are written.
Batches = Iterator[tuple[str, list[bytes]]]


def source_path(source: str | None, kind: str, what: str) -> Path:
    """The SOURCE argument as a path that exists."""
    if source is None:
        raise UserError(
            f"the {kind} dataset needs a SOURCE: {what}",
            hint=f"plxgen data {kind} SOURCE -o DIR",
        )
    path = Path(source)
    if not os.path.lexists(path):
        raise UserError(f"{path}: not found")
    return path


def fixed_split(options: Options) -> bool:
    """True when the 2017 split applies: neither --eval-fraction nor --seed given."""
    return options.eval_fraction is None and options.seed is None
