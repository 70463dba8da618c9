"""`plxgen results DIR`: the finished runs under a folder, one row each."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.conftest import plxgen


def _run(folder: Path, metrics: dict[str, Any], values: dict[str, Any] | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    config: dict[str, Any] = {"version": 1, "project": {"name": "p"}}
    if values is not None:
        config["matrix"] = {name: {"values": [value]} for name, value in values.items()}
    (folder / "config.json").write_text(json.dumps(config))


def _sweep(root: Path) -> Path:
    sweep = root / "sweep"
    _run(
        sweep / "p-lr_0.1",
        {"global_step": 300, "resumed_from": 0, "train": {"loss": 0.2}, "eval": {"loss": 0.5, "accuracy": 0.9}},
        {"lr": 0.1, "units": 64},
    )
    _run(
        sweep / "p-lr_0.01",
        {"global_step": 300, "resumed_from": 0, "eval": {"loss": 0.25, "accuracy": 0.95}},
        {"lr": 0.01, "units": 64},
    )
    # Trained but never evaluated: a row with no metrics.
    _run(sweep / "p-lr_1.0", {"global_step": 20, "resumed_from": 0, "train": {"loss": 9.0}}, {"lr": 1.0, "units": 64})
    # Not a run: checkpoints and exports hold no metrics.json.
    (sweep / "p-lr_0.1" / "export" / "300").mkdir(parents=True)
    return sweep


def test_table_csv_and_json(tmp_path: Path) -> None:
    _sweep(tmp_path)
    table = plxgen("results", "sweep", cwd=tmp_path, check=True).stdout
    assert table.splitlines() == [
        "run                lr  units  global_step  loss  accuracy",
        "sweep/p-lr_0.01  0.01     64          300  0.25      0.95",
        "sweep/p-lr_0.1    0.1     64          300   0.5       0.9",
        "sweep/p-lr_1.0      1     64           20     -         -",
    ]
    rows = list(csv.DictReader(io.StringIO(plxgen("results", "sweep", "--format", "csv", cwd=tmp_path, check=True).stdout)))
    assert rows[0] == {"run": "sweep/p-lr_0.01", "lr": "0.01", "units": "64", "global_step": "300", "loss": "0.25", "accuracy": "0.95"}
    assert rows[2]["loss"] == ""
    objects = json.loads(plxgen("results", "sweep", "--format", "json", cwd=tmp_path, check=True).stdout)
    assert objects[1] == {
        "run": "sweep/p-lr_0.1",
        "values": {"lr": 0.1, "units": 64},
        "global_step": 300,
        "eval": {"loss": 0.5, "accuracy": 0.9},
    }


def test_sort_by_a_metric(tmp_path: Path) -> None:
    _sweep(tmp_path)
    by_loss = json.loads(plxgen("results", "sweep", "--format", "json", "--sort", "loss", cwd=tmp_path, check=True).stdout)
    assert [o["run"] for o in by_loss] == ["sweep/p-lr_0.01", "sweep/p-lr_0.1", "sweep/p-lr_1.0"]
    best = json.loads(
        plxgen("results", "sweep", "--format", "json", "--sort", "lr", "--reverse", cwd=tmp_path, check=True).stdout
    )
    assert [o["values"]["lr"] for o in best] == [1.0, 0.1, 0.01]
    wrong = plxgen("results", "sweep", "--sort", "acuracy", cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines() == [
        "plxgen: error: no run has a metric or value 'acuracy'",
        "  hint: did you mean 'accuracy'?",
    ]


def test_unreadable_runs_are_skipped_with_a_warning(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path)
    (sweep / "broken").mkdir()
    (sweep / "broken" / "metrics.json").write_text("{not json")
    done = plxgen("results", "sweep", "--format", "json", cwd=tmp_path, check=True)
    assert len(json.loads(done.stdout)) == 3
    assert "plxgen: warning: skipped sweep/broken/metrics.json: " in done.stderr


def test_no_runs_and_no_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = plxgen("results", "empty", "--format", "json", cwd=tmp_path, check=True)
    assert json.loads(done.stdout) == []
    assert "no finished runs" in done.stderr
    missing = plxgen("results", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere: not a folder" in missing.stderr


def test_only_corrupt_runs_say_which_files_were_skipped_and_why(tmp_path: Path) -> None:
    for name, text in (("broken", "{not json"), ("listed", "[]")):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "metrics.json").write_text(text)
    done = plxgen("results", "runs", cwd=tmp_path, check=True)
    assert done.stdout == ""  # no header row over no runs
    lines = done.stderr.splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("plxgen: warning: skipped runs/broken/metrics.json: Expecting")
    assert lines[1] == (
        'plxgen: warning: skipped runs/listed/metrics.json: a JSON list, not an object '
        '{"global_step": N, "eval": {...}}'
    )
    assert lines[2] == "no finished runs (2 metrics.json skipped, see above) under runs"
