"""`plxgen results DIR`: one row per finished run under DIR, to compare a sweep's runs.

A finished run is a folder with a `metrics.json` (written by a generated script
at the end of each schedule). Its combination of a matrix comes from the
`config.json` beside it: a matrix script records its values there as a matrix
of one value per axis.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plxgen.errors import UserError, did_you_mean, escape

METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.json"
FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class Run:
    """One finished run: its folder, its combination's values, its step and eval metrics."""

    folder: str
    global_step: int | None
    values: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def get(self, column: str) -> Any:
        """The value of a metric, an axis or global_step (None where the run has none)."""
        if column == "global_step":
            return self.global_step
        if column in self.metrics:
            return self.metrics[column]
        return self.values.get(column)


def _read_json(path: str) -> Any:
    """A regular JSON file's content (None for another kind of file)."""
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _values(folder: str) -> dict[str, Any]:
    """The combination a matrix script recorded in config.json ({} without one)."""
    try:
        config = _read_json(os.path.join(folder, CONFIG_FILE))
    except (OSError, ValueError):
        return {}
    matrix = config.get("matrix") if isinstance(config, dict) else None
    if not isinstance(matrix, dict):
        return {}
    found = {}
    for axis, spec in matrix.items():
        values = spec.get("values") if isinstance(spec, dict) else None
        if isinstance(values, list) and len(values) == 1:
            found[str(axis)] = values[0]
    return found


def find_runs(
    root: Path, warn: io.TextIOBase | Any = None, skipped: list[str] | None = None
) -> list[Run]:
    """Every finished run under root, in path order.

    A metrics.json that cannot be read, or is not a JSON object, is skipped
    with one warning line on `warn`, and its path added to `skipped`.
    """
    if not root.is_dir():
        raise UserError(f"{escape(str(root))}: not a folder")
    runs = []
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        if METRICS_FILE not in files:
            continue
        path = os.path.join(folder, METRICS_FILE)
        try:
            report = _read_json(path)
            if not isinstance(report, dict):
                raise ValueError(
                    f"a JSON {type(report).__name__}, not an object "
                    '{"global_step": N, "eval": {...}}'
                )
        except (OSError, ValueError) as error:
            if warn is not None:
                print(f"plxgen: warning: skipped {escape(path)}: {escape(str(error))}", file=warn)
            if skipped is not None:
                skipped.append(path)
            continue
        step = report.get("global_step")
        evaluation = report.get("eval")
        metrics = {
            str(name): float(value)
            for name, value in (evaluation.items() if isinstance(evaluation, dict) else ())
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        runs.append(
            Run(
                folder,
                step if isinstance(step, int) and not isinstance(step, bool) else None,
                _values(folder),
                metrics,
            )
        )
    return runs


def columns(runs: list[Run]) -> tuple[list[str], list[str]]:
    """(axes, metrics) over all runs: axes in the order first seen, loss first, then by name."""
    axes: dict[str, None] = {}
    names: set[str] = set()
    for run in runs:
        axes.update(dict.fromkeys(run.values))
        names.update(run.metrics)
    metrics = sorted(names, key=lambda name: (name != "loss", name))
    return list(axes), metrics


def sort_runs(runs: list[Run], by: str, reverse: bool = False) -> list[Run]:
    """Runs by one column, ascending (descending with reverse); runs without it last."""
    axes, metrics = columns(runs)
    known = ["global_step", *axes, *metrics]
    if runs and by not in known:
        raise UserError(
            f"no run has a metric or value {by!r}",
            did_you_mean(by, known) or f"choose one of: {', '.join(known)}",
        )
    present = [run for run in runs if _sortable(run.get(by))]
    missing = [run for run in runs if not _sortable(run.get(by))]
    present.sort(key=lambda run: _key(run.get(by)), reverse=reverse)
    return present + missing


def _sortable(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _key(value: Any) -> tuple[int, Any]:
    """Numbers before text; each in its own order."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def render(runs: list[Run], fmt: str) -> str:
    """The runs as a table (aligned text), CSV or a JSON list of objects."""
    axes, metrics = columns(runs)
    if fmt == "json":
        objects = [
            {
                "run": run.folder,
                "values": run.values,
                "global_step": run.global_step,
                "eval": run.metrics,
            }
            for run in runs
        ]
        return json.dumps(objects, indent=2) + "\n"
    header = ["run", *axes, "global_step", *metrics]
    rows: list[list[Any]] = [
        [run.folder, *(run.values.get(a) for a in axes), run.global_step]
        + [run.metrics.get(m) for m in metrics]
        for run in runs
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
        return out.getvalue()
    table: list[list[str]] = [header] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    numeric = [False] + [True] * (len(header) - 1)
    lines = []
    for row in table:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
