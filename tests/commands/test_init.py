"""`plxgen init`: a starter file with the editor's schema line, which compiles and trains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plxgen.compiler.validate import schema_text


def plxgen(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plxgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_init_writes_the_modeline_and_the_schema_beside_it(tmp_path: Path) -> None:
    result = plxgen(tmp_path, "init", "mnist")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "mnist.yaml").read_text()
    assert (
        text.splitlines()[0] == "# yaml-language-server: $schema=experiment.schema.json"
    )
    assert (tmp_path / "experiment.schema.json").read_text() == schema_text()
    assert "name: mnist" in text
    assert plxgen(tmp_path, "validate", "mnist.yaml").returncode == 0
    again = plxgen(tmp_path, "init", "mnist")
    assert again.returncode == 2 and "exists; not overwriting" in again.stderr


def test_init_with_a_schema_url_writes_only_the_experiment(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    url = "https://example.org/experiment.schema.json"
    result = plxgen(tmp_path, "init", "exp/run-1.yaml", "--schema", url)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "exp" / "experiment.schema.json").exists()
    text = (tmp_path / "exp" / "run-1.yaml").read_text()
    assert text.startswith(f"# yaml-language-server: $schema={url}\n")
    assert f"plxgen data digits -o {os.path.join('exp', 'data', 'digits')}" in text


def test_init_rejects_a_name_that_cannot_be_a_project(tmp_path: Path) -> None:
    result = plxgen(tmp_path, "init", "my experiment")
    assert result.returncode == 2 and "cannot be a project name" in result.stderr


def test_the_starter_compiles_and_trains_on_the_digits(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("sklearn")
    assert plxgen(tmp_path, "init").returncode == 0  # experiment.yaml
    # The steps the file's own comments give, in order.
    made = plxgen(tmp_path, "data", "digits", "-o", "data/digits")
    assert made.returncode == 0, made.stderr
    compiled = plxgen(tmp_path, "compile", "experiment.yaml", "-o", "experiment.py")
    assert compiled.returncode == 0, compiled.stderr
    trained = subprocess.run(
        [sys.executable, "experiment.py", "--train-steps", "3", "--eval-steps", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    report = json.loads((tmp_path / "experiment" / "metrics.json").read_text())
    assert report["global_step"] == 3 and "accuracy" in report["eval"]
    assert list((tmp_path / "experiment" / "train").glob("events.out.tfevents.*"))
