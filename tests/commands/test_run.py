"""`plxgen run OUT`: a compiled sweep's scripts run here, N at a time, stopped and resumed.

The end-to-end tests train a tiny tabular classifier on blobs (as
tests/scripts/test_sweep_compare.py does): `sweep/` has 2 x 2 combinations,
`pair/` two; in each, the runs of 20 steps alternate with runs of 1000. The
other tests run stand-in scripts (no TensorFlow) that behave as a generated
script does at its edges: --model-dir, metrics.json, exit 1 with one line,
SIGTERM -> a checkpoint and exit 143.

Every wait is on something the processes write (a file, a progress line),
bounded by a hang guard; no fixed sleep decides an outcome.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from tests.conftest import QUIET, finished, hang_guard, plxgen

SWEEP = """\
version: 1
project: {name: blobs}
matrix:
  units: {values: [4, 8]}
  steps: {values: [20, 1000]}
environment:
  run_config: {save_checkpoints_steps: 100}
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {Adam: {learning_rate: 0.01}}
    metrics: [Accuracy]
    n_classes: 3
    graph:
      input_layers: x
      layers:
        - Dense: {units: "{{ units }}", activation: relu}
        - Dense: {units: 3}
train:
  train_steps: "{{ steps }}"
  data_pipeline:
    TFRecordTabularPipeline:
      data_files: [data/npz_train.tfrecord]
      meta_data_file: data/meta_data.json
      num_epochs: 100000
eval:
  data_pipeline:
    TFRecordTabularPipeline:
      data_files: [data/npz_eval.tfrecord]
      meta_data_file: data/meta_data.json
      shuffle: false
"""
NAMES = {
    "sweep": [
        "sweep-units_4-steps_20",
        "sweep-units_4-steps_1000",
        "sweep-units_8-steps_20",
        "sweep-units_8-steps_1000",
    ],
    "pair": ["pair-units_4-steps_20", "pair-units_4-steps_1000"],
}
# A whole progress line of plxgen run, by kind.
PROGRESS = re.compile(
    r"\[(?P<index>\d+)/(?P<total>\d+)\] (?:"
    r"start (?P<start>\S+) \((?P<values>[^()]*)\)"
    r"|done  (?P<done>\S+) in \d+ s(?: \(resumed from step (?P<resumed>\d+)\))?: "
    r"loss \d\.\d+, accuracy \d(?:\.\d+)?"
    r"|skip  (?P<skip>\S+) \(finished\)"
    r"|stopped (?P<stopped>\S+) after \d+ s \((?:exit -?\d+|killed by SIG[A-Z]+)\): .+"
    r"|FAILED (?P<failed>\S+) \(exit (?P<code>\d+)\): (?P<line>.+)"
    r")"
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The blobs data, and both sweeps compiled into sweep/ and pair/, once per module."""
    pytest.importorskip("tensorflow")
    root = tmp_path_factory.mktemp("compiled")
    y = np.arange(90) % 3
    x = np.random.default_rng(0).normal(size=(90, 2)) + y[:, np.newaxis]
    np.savez(root / "blobs.npz", x=x, y=y)
    plxgen("data", "npz", "blobs.npz", "-o", "data", cwd=root, check=True)
    (root / "sweep.yaml").write_text(SWEEP)
    (root / "pair.yaml").write_text(SWEEP.replace("values: [4, 8]", "values: [4]"))
    for sweep, names in NAMES.items():
        plxgen("compile", f"{sweep}.yaml", "-o", f"{sweep}/", cwd=root, check=True)
        assert list(_scripts(root / sweep)) == names
    return root


@pytest.fixture
def work(compiled: Path, tmp_path: Path) -> Path:
    """A fresh copy of the compiled sweeps and their data: nothing run yet."""
    shutil.copytree(compiled, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _scripts(sweep: Path) -> dict[str, dict[str, Any]]:
    """matrix.json's scripts, by stem, in combination order."""
    listed = json.loads((sweep / "matrix.json").read_text())["scripts"]
    return {Path(name).stem: values for name, values in listed.items()}


def _progress(stderr: str, sweep: str) -> list[re.Match[str]]:
    """The progress lines, between the first line and the summary; each one whole."""
    total = len(NAMES[sweep])
    lines = stderr.splitlines()
    assert lines[0].startswith(f"{sweep}: {total} runs, "), stderr
    found = []
    for line in lines[1:-1]:
        if line.startswith("stopping: "):
            continue
        match = PROGRESS.fullmatch(line)
        assert match and match["total"] == str(total), f"not a whole progress line: {line!r}\n{stderr}"
        found.append(match)
    return found


def _table(stdout: str) -> dict[str, dict[str, str]]:
    """The results table's rows: run folder name -> {column: cell}."""
    header, *rows = [line.split() for line in stdout.splitlines()]
    assert header[0] == "run" and header[-2:] == ["loss", "accuracy"], stdout
    return {Path(row[0]).name: dict(zip(header[1:], row[1:])) for row in rows}


def _metrics(run: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((run / "metrics.json").read_text())
    return report


def _start_in_own_group(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`python -m plxgen ARGS` as a terminal starts it: the leader of its own process group.

    (conftest's start_plxgen keeps the child in pytest's group; a terminal's
    Ctrl-C goes to the whole group, which only a group of its own can receive.)
    """
    return subprocess.Popen(
        [sys.executable, "-m", "plxgen", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        env={**os.environ, **QUIET},
        start_new_session=True,
    )


def _read_until(
    process: subprocess.Popen[str], seen: list[str], wanted: Callable[[str], bool]
) -> str:
    """Read stderr lines into `seen` until one is `wanted`; returns it."""
    assert process.stderr is not None
    while True:
        line = process.stderr.readline()
        if not line:
            pytest.fail(f"plxgen run ended ({process.wait()}) first:\n{''.join(seen)}")
        seen.append(line)
        if wanted(line.rstrip("\n")):
            return line.rstrip("\n")


def _wait_for(found: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Poll until found() (the hang guard around it bounds the wait)."""
    while not found():
        if process.poll() is not None:
            pytest.fail(f"plxgen run exited {process.returncode} first")
        time.sleep(0.05)


# ---- end to end: the generated scripts themselves ----


def test_a_sweep_runs_to_the_end_two_at_a_time(work: Path) -> None:
    names = NAMES["sweep"]
    done = plxgen("run", "sweep", "-j", "2", cwd=work, timeout=600)
    assert done.returncode == 0, done.stderr
    scripts = _scripts(work / "sweep")
    for name in names:
        assert (work / "sweep" / "runs" / name / "metrics.json").is_file()
        assert (work / "sweep" / "runs" / name / "run.log").is_file()
    assert done.stderr.splitlines()[0] == (
        "sweep: 4 runs, 2 at a time (-j 2); each in sweep/runs/NAME, its output in NAME/run.log"
    )
    progress = _progress(done.stderr, "sweep")
    starts = {m["start"]: m["values"] for m in progress if m["start"]}
    assert starts == {
        name: ", ".join(f"{k}={v}" for k, v in values.items())
        for name, values in scripts.items()
    }
    assert sorted(m["done"] for m in progress if m["done"]) == sorted(names)
    assert len(progress) == 8
    # Combination order, at most two at a time: the third starts once one is done.
    assert [m["start"] for m in progress if m["start"]] == names
    assert [bool(m["start"]) for m in progress[:3]] == [True, True, False]
    assert done.stderr.splitlines()[-1].startswith("4 of 4 runs finished, in ")
    table = _table(done.stdout)
    assert set(table) == set(names)
    for name, row in table.items():
        assert {k: float(row[k]) for k in scripts[name]} == scripts[name]
        assert row["global_step"] == str(scripts[name]["steps"])


@pytest.mark.parametrize(
    "sweep", ["pair", pytest.param("sweep", marks=pytest.mark.slow)]
)
def test_stopped_by_ctrl_c_and_resumed(work: Path, sweep: str) -> None:
    """Ctrl-C once the first run is done and the second has a checkpoint; then a rerun.

    sweep/ also has a third run, started just before the Ctrl-C, and a fourth
    that never started.
    """
    names = NAMES[sweep]
    total = len(names)
    runs = work / sweep / "runs"
    short, long = runs / names[0], runs / names[1]
    process = _start_in_own_group("run", sweep, "-j", "2", cwd=work)
    seen: list[str] = []
    with hang_guard(300):
        # Freeze the long run once it has a checkpoint: it cannot end before the
        # Ctrl-C, however fast it trains.
        _wait_for(lambda: any((long / "checkpoints").glob("ckpt-*.index")), process)
        pid = int(re.findall(r"pid (\d+)", (long / "lock").read_text())[0])
        os.kill(pid, signal.SIGSTOP)
        if total > 2:  # the first run is done and the third started in its place
            wanted = f"[3/{total}] start {names[2]} "
        else:
            wanted = f"[1/{total}] done  {names[0]} "
        _read_until(process, seen, lambda line: line.startswith(wanted))
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole process group gets it
        _read_until(process, seen, lambda line: line.startswith("stopping: "))
        os.kill(pid, signal.SIGCONT)  # it handles plxgen's SIGTERM now
        rest = finished(process, timeout=120)
    stderr = "".join(seen) + rest.stderr
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    progress = _progress(stderr, sweep)
    assert [m["done"] for m in progress if m["done"]] == [names[0]]
    stopped = {m["stopped"]: m[0] for m in progress if m["stopped"]}
    assert set(stopped) == set(names[1:3]), stderr
    [step] = map(
        int,
        re.findall(r"\(exit 143\): .*stopped by SIGTERM at step (\d+);", stopped[names[1]]),
    )
    assert step > 0 and (long / "checkpoints" / f"ckpt-{step}.index").is_file()
    assert not any((runs / name / "metrics.json").exists() for name in names[1:])
    assert not any((runs / name).exists() for name in names[3:])
    assert stderr.splitlines()[-1].endswith(
        f": 1 of {total} runs finished; rerun: plxgen run {sweep} -j 2"
    ), stderr
    assert rest.stdout == ""
    before = (short / "metrics.json").read_bytes()

    again = plxgen("run", sweep, "-j", "2", cwd=work, timeout=600)
    assert again.returncode == 0, again.stderr
    progress = _progress(again.stderr, sweep)
    assert [m["skip"] for m in progress if m["skip"]] == [names[0]]
    assert (short / "metrics.json").read_bytes() == before
    assert [m["start"] for m in progress if m["start"]] == names[1:]
    resumed = {m["done"]: m["resumed"] for m in progress if m["done"]}
    assert set(resumed) == set(names[1:])
    assert resumed[names[1]] == str(step), again.stderr
    assert all(resumed[name] is None for name in names[3:])
    assert _metrics(long)["resumed_from"] == step
    assert _metrics(long)["global_step"] == 1000
    log = (long / "run.log").read_text()
    assert log.count("==> ") == 2 and f"stopped by SIGTERM at step {step}" in log
    assert set(_table(again.stdout)) == set(names)


def test_a_failed_run_is_reported_and_the_others_run(work: Path) -> None:
    names = NAMES["pair"]
    # A checkpoint that does not read: the script stops with exit 1 and one line.
    broken = work / "pair" / "runs" / names[0] / "checkpoints"
    broken.mkdir(parents=True)
    (broken / "ckpt-5.index").write_bytes(b"not a checkpoint")
    done = plxgen("run", "pair", "-j", "1", cwd=work, timeout=600)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    progress = _progress(done.stderr, "pair")
    assert [m["start"] or m["failed"] or m["done"] for m in progress] == [
        names[0], names[0], names[1], names[1]
    ]
    failed = progress[1]
    assert (failed["index"], failed["failed"], failed["code"]) == ("1", names[0], "1")
    assert failed["line"].startswith(f"{names[0]}.py: error: no checkpoint in ")
    assert "reads whole" in failed["line"]
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"1 of 2 runs failed (pair/runs/{names[0]}/run.log); 1 finished")
    assert last.endswith("rerun to retry: plxgen run pair -j 1")
    assert set(_table(done.stdout)) == {names[1]}


# ---- the launcher's own edges, with stand-in scripts ----

STAND_IN = '''\
"""A stand-in for a generated script: {behaviour}."""
import json, os, signal, sys, time

model_dir = sys.argv[sys.argv.index("--model-dir") + 1]
os.makedirs(model_dir, exist_ok=True)
name = os.path.basename(__file__)
behaviour = {behaviour!r}


def mark(what):
    with open(os.path.join(model_dir, what), "w") as f:
        f.write(str(os.getpid()))


def stop(signum, frame):
    mark("checkpoint")
    print(f"{{name}}: stopped by SIGTERM at step 7; run again to resume", file=sys.stderr)
    sys.exit(143)


if behaviour == "finish":
    # Every stand-in of the sweep runs at once (as -j allows), or this one fails.
    mark("started")
    deadline = time.monotonic() + 60
    folder = os.path.dirname(model_dir)
    while sum(os.path.exists(os.path.join(folder, d, "started")) for d in os.listdir(folder)) < int(os.environ.get("EXPECT_AT_ONCE", "1")):
        if time.monotonic() > deadline:
            sys.exit(f"{{name}}: error: the others did not start beside it")
        time.sleep(0.02)
    with open(os.path.join(model_dir, "metrics.json"), "w") as f:
        json.dump({{"global_step": 3, "resumed_from": 0, "eval": {{"loss": 0.5}}}}, f)
elif behaviour == "fail":
    print("some output")
    print(f"{{name}}: error: train.data_pipeline: no such file\\n", file=sys.stderr)
    sys.exit(1)
else:  # wait for SIGTERM, handled or not
    signal.signal(signal.SIGTERM, stop if behaviour == "wait" else signal.SIG_IGN)
    mark("ready")
    while True:
        time.sleep(0.05)
'''


def _stand_ins(root: Path, behaviours: list[str], settings: str | None = None) -> Path:
    """A sweep folder `out` of stand-in scripts `s1.py`, `s2.py`, ... and its matrix.json."""
    out = root / "out"
    out.mkdir()
    scripts = {}
    for number, behaviour in enumerate(behaviours, 1):
        (out / f"s{number}.py").write_text(STAND_IN.format(behaviour=behaviour))
        scripts[f"s{number}.py"] = {"n": number}
    index = {"generated_by": "plxgen 0.1.0", "config": "../sweep.yaml", "axes": {"n": [1]}, "scripts": scripts}
    (out / "matrix.json").write_text(json.dumps(index))
    if settings is not None:
        (root / "sweep.yaml").write_text(f"version: 1\nsettings:\n  {settings}\n")
    return out


@pytest.mark.parametrize(
    "settings, jobs",
    [("concurrent_experiments: 3", 3), ("concurrent_experiments: 0", 1), (None, 1)],
)
def test_the_default_jobs_are_the_configs_concurrent_experiments(
    tmp_path: Path, settings: str | None, jobs: int
) -> None:
    _stand_ins(tmp_path, ["finish"] * 3, settings)
    done = plxgen("run", "out", cwd=tmp_path, env={"EXPECT_AT_ONCE": str(jobs)}, timeout=120)
    assert done.returncode == 0, done.stderr
    source = "settings.concurrent_experiments" if jobs > 1 else "-j N for more"
    assert done.stderr.splitlines()[0] == (
        f"out: 3 runs, {jobs} at a time ({source}); each in out/runs/NAME, its output in NAME/run.log"
    )
    assert [row.split() for row in done.stdout.splitlines()[1:]] == [
        [f"out/runs/s{n}", "3", "0.5"] for n in (1, 2, 3)
    ]


def test_a_finished_sweep_is_all_skipped(tmp_path: Path) -> None:
    _stand_ins(tmp_path, ["fail", "fail"])
    for name in ("s1", "s2"):
        (tmp_path / "out" / "runs" / name).mkdir(parents=True)
        (tmp_path / "out" / "runs" / name / "metrics.json").write_text('{"global_step": 1}')
    done = plxgen("run", "out", "--runs", "out/runs", cwd=tmp_path, check=True)
    assert done.stderr.splitlines()[1:] == [
        "[1/2] skip  s1 (finished)",
        "[2/2] skip  s2 (finished)",
        "2 of 2 runs finished, in 0 s",
    ]
    assert not (tmp_path / "out" / "runs" / "s1" / "run.log").exists()
    assert len(done.stdout.splitlines()) == 3


def test_a_failed_stand_in_names_its_last_line(tmp_path: Path) -> None:
    _stand_ins(tmp_path, ["fail", "finish"])
    done = plxgen("run", "out", "-j", "1", "--runs", "elsewhere", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert lines[2] == "[1/2] FAILED s1 (exit 1): s1.py: error: train.data_pipeline: no such file"
    assert lines[4].startswith("[2/2] done  s2 in ")
    assert lines[-1].endswith("rerun to retry: plxgen run out -j 1 --runs elsewhere")
    assert done.stdout.splitlines()[1].split() == ["elsewhere/s2", "3", "0.5"]


@pytest.mark.parametrize("how, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_every_running_script(tmp_path: Path, how: int, code: int) -> None:
    _stand_ins(tmp_path, ["wait", "wait", "wait"])
    runs = tmp_path / "out" / "runs"
    process = _start_in_own_group("run", "out", "-j", "2", cwd=tmp_path)
    with hang_guard(120):
        _wait_for(lambda: all((runs / s / "ready").exists() for s in ("s1", "s2")), process)
        # SIGINT as Ctrl-C sends it, to the whole group; SIGTERM as a batch system, to plxgen.
        os.killpg(process.pid, how) if how == signal.SIGINT else process.send_signal(how)
        done = finished(process, timeout=60)
    assert process.returncode == code, done.stderr
    lines = done.stderr.splitlines()
    stopped = sorted(line for line in lines if " stopped " in line and line.startswith("["))
    assert [line.split(" after ")[0] for line in stopped] == ["[1/3] stopped s1", "[2/3] stopped s2"]
    for line in stopped:
        name = line.split()[2]
        assert line.endswith(f"(exit 143): {name}.py: stopped by SIGTERM at step 7; run again to resume")
    assert all((runs / s / "checkpoint").exists() for s in ("s1", "s2"))
    assert not (runs / "s3").exists()
    name = signal.Signals(how).name
    assert re.fullmatch(
        rf"stopped by {name} after \d+ s: 0 of 3 runs finished; rerun: plxgen run out -j 2",
        lines[-1],
    )


def test_a_second_ctrl_c_kills_a_script_that_does_not_stop(tmp_path: Path) -> None:
    _stand_ins(tmp_path, ["ignore"])
    process = _start_in_own_group("run", "out", cwd=tmp_path)
    seen: list[str] = []
    with hang_guard(120):
        _wait_for(lambda: (tmp_path / "out" / "runs" / "s1" / "ready").exists(), process)
        os.killpg(process.pid, signal.SIGINT)
        _read_until(process, seen, lambda line: line.startswith("stopping: "))
        os.killpg(process.pid, signal.SIGINT)
        done = finished(process, timeout=60)
    assert process.returncode == 130
    assert done.stderr.splitlines()[0] == (
        "[1/1] killed s1: it had not exited; it resumes from its newest checkpoint"
    )


# ---- user errors ----


def _user_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    return done.stderr


def test_a_folder_without_matrix_json(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    stderr = _user_error(plxgen("run", "out", cwd=tmp_path))
    assert stderr.splitlines() == [
        "plxgen: error: out holds no matrix.json: it is not a compiled sweep",
        "  hint: compile a config with a matrix into it first: plxgen compile SWEEP.yaml -o out/",
    ]
    stderr = _user_error(plxgen("run", "missing", cwd=tmp_path))
    assert stderr.startswith("plxgen: error: missing: not a folder\n")


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_is_a_whole_number_of_at_least_one(tmp_path: Path, jobs: str) -> None:
    _stand_ins(tmp_path, ["finish"])
    stderr = _user_error(plxgen("run", "out", "-j", jobs, cwd=tmp_path))
    assert "plxgen: error: argument -j/--jobs: expected " in stderr
    assert not (tmp_path / "out" / "runs").exists()


@pytest.mark.parametrize(
    "index, message",
    [
        ("[1, 2]", "is not a matrix.json that plxgen wrote"),
        ('{"scripts": {"s1.py": {}}}', "is not a matrix.json that plxgen wrote"),
        ("{", "cannot be read: "),
        ('{"generated_by": "plxgen 0.1.0", "scripts": {}}', 'lists no "scripts"'),
        ('{"generated_by": "plxgen 0.1.0", "scripts": {"../s1.py": {}}}', "not a script of this folder"),
        ('{"generated_by": "plxgen 0.1.0", "scripts": {"...py": {}}}', "not a script of this folder"),
        ('{"generated_by": "plxgen 0.1.0", "scripts": {"s2.py": {"n": 2}}}', "names s2.py, which is missing"),
    ],
)
def test_a_matrix_json_that_is_not_a_sweeps(tmp_path: Path, index: str, message: str) -> None:
    out = _stand_ins(tmp_path, ["finish"])
    (out / "matrix.json").write_text(index)
    stderr = _user_error(plxgen("run", "out", cwd=tmp_path))
    assert message in stderr.splitlines()[0], stderr
    assert "  hint: compile the sweep again: plxgen compile " in stderr
    assert not (out / "runs").exists()
