"""A matrix compiled by a pool of processes: the same files in the same order, the
same errors and the same warnings (each once) as its combinations compiled one by
one; the cache is read before any worker starts, and no worker outlives a failure.

`compile_target(..., workers=N)` sets the pool's size (1: no pool). The tests that
patch the compiler rely on forked workers inheriting the patch (Linux).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import plxgen.compiler as pipeline
from plxgen.compiler import Output, Target, cache, compile_target
from plxgen.compiler import format as formatting
from plxgen.errors import ConfigError, Diagnostic, collecting_warnings
from tests.conftest import ROOT, finished, plxgen, start_plxgen

SWEEP = ROOT / "generated_examples" / "sweeps" / "lenet_sweep.yaml"
forked = pytest.mark.skipif(
    sys.platform != "linux", reason="workers inherit the test's patches when forked"
)

# The sweep's graph, and one whose head a matrix value picks: each combination
# leaves another layer unused (a warning), and `is_public` warns in both.
GRAPH = """\
        - Flatten:
        - Dense: {units: "{{ dense_units }}", activation: relu}
        - Dense: {units: 10}
"""
BRANCHED = """\
        - Flatten: {name: flat}
        - Dense: {units: "{{ dense_units }}", activation: relu, name: hidden}
        - Dense: {units: 32, name: side, inbound_nodes: [flat]}
        - Dense: {units: 10, inbound_nodes: ["{{ head }}"]}
"""


def sweep(folder: Path, changes: dict[str, str] | None = None) -> Path:
    """The bundled sweep as `folder`/sweep.yaml, each key of `changes` replaced by its value."""
    text = SWEEP.read_text()
    for old, new in (changes or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "sweep.yaml"
    path.write_text(text)
    return path


def warned(folder: Path) -> Path:
    return sweep(folder, {
        "  name: lenet_sweep\n": "  name: lenet_sweep\n  is_public: true\n",
        "logspace: -3:-2:2": "values: [0.01]",
        "values: [256, 1024]": "values: [256]\n  head:\n    values: [hidden, side]",
        GRAPH: BRANCHED,
    })  # fmt: skip


def compiled(config: Path, workers: int, sets: list[str] | None = None) -> list[Output]:
    out = config.parent / "out"
    return compile_target(Target(config, out, out), sets or [], workers=workers)


def unformatted(monkeypatch: pytest.MonkeyPatch) -> None:
    """No black (most of a script's cost) where only the orchestration is tested."""
    monkeypatch.setattr(formatting, "format_source", lambda source: source)


def test_the_pool_writes_what_one_process_writes(tmp_path: Path) -> None:
    config = sweep(tmp_path)
    sets = [  # three: one worker compiles two of them, the other one
        "matrix.learning_rate={values: [0.001, 0.01, 0.1]}",
        "matrix.dense_units={values: [256]}",
    ]
    with cache.bypassed():
        alone = compiled(config, 1, sets)
        pooled = compiled(config, 2, sets)
    assert pooled == alone  # paths, bytes and order
    index = json.loads(alone[-1].text)
    assert [o.path.name for o in alone if o.path] == [*index["scripts"], "matrix.json"]
    assert len(alone) == 4


@forked
def test_the_cache_is_read_before_the_pool_and_no_cache_holds_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    bodies = tmp_path / "xdg" / "plxgen" / "bodies"
    unformatted(monkeypatch)
    config = sweep(tmp_path)
    with cache.bypassed():
        first = compiled(config, workers=2)
    assert not bodies.exists()  # --no-cache: neither this process nor a worker wrote
    # Misses: the workers compile them, this process stores them.
    assert compiled(config, workers=2) == first
    assert len([p for p in bodies.rglob("*") if p.is_file()]) == 4

    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("every body is in the cache: no pool is needed")

    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", no_pool)
    assert compiled(config, workers=2) == first


def test_the_errors_of_every_combination_are_reported(tmp_path: Path) -> None:
    config = sweep(tmp_path)
    sets = [
        "matrix.learning_rate={values: [0.01]}",
        "matrix.dense_units={values: [wide, -3, 2.5]}",
    ]
    found = []
    for workers in (1, 2):
        with pytest.raises(ConfigError) as info:
            compiled(config, workers, sets)
        found.append(info.value.diagnostics)
    assert found[0] == found[1]
    messages = [d.message for d in found[0]]
    assert len(messages) == 3, messages
    for value in ('"wide"', "-3", "2.5"):
        assert sum(value in m for m in messages) == 1, (value, messages)


@forked
def test_warnings_reach_this_process_once_each_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unformatted(monkeypatch)
    config = warned(tmp_path)
    found: list[list[Diagnostic]] = []
    for workers in (1, 2):
        with cache.bypassed(), collecting_warnings() as collector:
            compiled(config, workers)
        found.append(collector.found)
    assert found[0] == found[1]
    assert [(d.code, d.path) for d in found[0]] == [
        ("ignored-key", "project.is_public"),
        ("unused-layer", "model.classifier.graph.layers[4].Dense"),  # head: hidden
        ("unused-layer", "model.classifier.graph.layers[3].Dense"),  # head: side
    ]
    errors = []
    for workers in (1, 2):  # --strict: the same three are the errors
        with cache.bypassed(), collecting_warnings(strict=True) as collector:
            with pytest.raises(ConfigError) as info:
                compiled(config, workers)
        assert collector.found == []
        errors.append(info.value.diagnostics)
    assert errors[0] == errors[1]
    assert errors[0] == sorted(replace(d, severity="error") for d in found[0])


def test_strict_on_the_command_line(tmp_path: Path) -> None:
    warned(tmp_path)
    result = plxgen("compile", "--strict", "sweep.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(lines) == len(set(lines)) == 3, result.stderr
    assert result.stderr.splitlines()[-1] == "3 errors"
    assert not (tmp_path / "out").exists()


@forked
def test_a_failing_worker_leaves_no_process_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(job: Any, combo: Any) -> Any:
        if combo.values["dense_units"] == 1024:
            raise RuntimeError("a bug")
        return "body\n", False

    monkeypatch.setattr(pipeline, "_body", broken)
    with cache.bypassed(), pytest.raises(RuntimeError, match="a bug"):
        compiled(sweep(tmp_path), workers=2)
    assert multiprocessing.active_children() == []


@pytest.mark.skipif(
    sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2,
    reason="reads /proc; a pool needs two cores",
)
def test_ctrl_c_leaves_no_process_behind(tmp_path: Path) -> None:
    sweep(tmp_path, {"values: [256, 1024]": "values: [64, 128, 256, 512]"})
    process = start_plxgen(
        "--no-cache", "compile", "sweep.yaml", "-o", "out", cwd=tmp_path
    )
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    workers: list[str] = []
    deadline = time.monotonic() + 120
    while not workers and process.poll() is None and time.monotonic() < deadline:
        workers = children.read_text().split()
        time.sleep(0.05)
    assert workers, "no worker started"
    time.sleep(0.5)  # the other workers start too
    workers = children.read_text().split()
    os.kill(process.pid, signal.SIGINT)
    result = finished(process, 120, check=False)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert not (tmp_path / "out").exists()
