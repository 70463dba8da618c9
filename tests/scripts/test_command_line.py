"""A script reads its command line before it imports TensorFlow.

`--help` and a mistyped option answer at once (TensorFlow's import takes
seconds), so these tests need neither TensorFlow nor data: they check that
the script stops before `tensorflow` (or `keras`) is in `sys.modules`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPTS = sorted((ROOT / "generated_examples").glob("*.py"))

# Runs the script as __main__ with the given arguments, then reports its exit
# code and whether TensorFlow or Keras was imported by then.
DRIVER = """
import runpy, sys
path, *sys.argv[1:] = sys.argv[1:]
sys.argv[0] = path
try:
    runpy.run_path(path, run_name="__main__")
    code = 0
except SystemExit as stop:
    code = stop.code
heavy = sorted({"keras", "tensorflow"} & set(sys.modules))
print(f"exit={code} heavy={','.join(heavy) or 'none'}", file=sys.stderr)
"""


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DRIVER, str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=script.parent,
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_help_answers_without_importing_tensorflow(script: Path) -> None:
    result = run(script, "--help")
    assert result.stdout.startswith(f"usage: {script.name}"), result.stderr[-2000:]
    assert "--model-dir" in result.stdout and "--schedule" in result.stdout
    # Every default says what it does (a None would not).
    assert "(default: None)" not in " ".join(result.stdout.split())
    # The speed follows from this (benchmarks/compile_latency.py has the figures).
    assert result.stderr.strip().splitlines()[-1] == "exit=0 heavy=none"


def test_help_of_a_config_named_with_percent_signs(tmp_path: Path) -> None:
    # argparse %-formats the description: the config's name must not reach it.
    config = tmp_path / "%(prog)s-100%.yaml"
    config.write_text((ROOT / "generated_examples" / "lenet.yaml").read_text())
    script = tmp_path / "train.py"
    compiled = subprocess.run(
        [sys.executable, "-m", "plxgen", "compile", config.name, "-o", script.name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert compiled.returncode == 0, compiled.stderr
    result = run(script, "--help")
    assert result.stdout.startswith("usage: train.py"), result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == "exit=0 heavy=none"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_a_mistyped_option_is_an_error_before_tensorflow(script: Path) -> None:
    result = run(script, "--train-step", "10", "--bogus")
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "exit=2 heavy=none", result.stderr[-2000:]
    assert "error: unrecognized arguments: --bogus" in result.stderr
