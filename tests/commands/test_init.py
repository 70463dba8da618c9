"""`plxgen init`: a starter file with the editor's schema line, which compiles and trains."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plxgen.compiler.validate import editor_schema_text
from tests.conftest import plxgen, train


def test_init_writes_the_modeline_and_the_schema_beside_it(tmp_path: Path) -> None:
    result = plxgen("init", "mnist", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "mnist.yaml").read_text()
    assert (
        text.splitlines()[0] == "# yaml-language-server: $schema=experiment.schema.json"
    )
    assert (tmp_path / "experiment.schema.json").read_text() == editor_schema_text()
    assert "name: mnist" in text
    assert plxgen("validate", "mnist.yaml", cwd=tmp_path).returncode == 0
    again = plxgen("init", "mnist", cwd=tmp_path)
    assert again.returncode == 2 and "exists; not overwriting" in again.stderr


def test_init_with_a_schema_url_writes_only_the_experiment(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    url = "https://example.org/experiment.schema.json"
    result = plxgen("init", "exp/run-1.yaml", "--schema", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "exp" / "experiment.schema.json").exists()
    text = (tmp_path / "exp" / "run-1.yaml").read_text()
    assert text.startswith(f"# yaml-language-server: $schema={url}\n")
    assert f"plxgen data digits -o {os.path.join('exp', 'data', 'digits')}" in text


def test_init_rejects_a_name_that_cannot_be_a_project(tmp_path: Path) -> None:
    result = plxgen("init", "my experiment", cwd=tmp_path)
    assert result.returncode == 2 and "cannot be a project name" in result.stderr


def test_the_starter_compiles_and_trains_on_the_digits(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("sklearn")
    assert plxgen("init", cwd=tmp_path).returncode == 0  # experiment.yaml
    # The steps the file's own comments give, in order.
    made = plxgen("data", "digits", "-o", "data/digits", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    compiled = plxgen("compile", "experiment.yaml", "-o", "experiment.py", cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    trained = train(
        "experiment.py", "--train-steps", "3", "--eval-steps", "1", cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    report = json.loads((tmp_path / "experiment" / "metrics.json").read_text())
    assert report["global_step"] == 3 and "accuracy" in report["eval"]
    assert list((tmp_path / "experiment" / "train").glob("events.out.tfevents.*"))
