"""The SLURM launchers, submitted to a real one-node cluster (tests/slurm_cluster.py).

A sweep is a job array that runs every script to its metrics.json; a task
cancelled with scancel and submitted again resumes from the checkpoint its
SIGTERM saved and ends with the weights of an uninterrupted run; a chief and a
worker started by one job train one model together. The jobs run the venv's
Python (`launch.python`) on the digits as numpy arrays, for a few steps.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests import slurm_cluster
from tests.conftest import plxgen, train
from tests.pipeline_data import write_npz

if (reason := slurm_cluster.missing()) is not None:
    pytest.skip(reason, allow_module_level=True)
tf = pytest.importorskip("tensorflow")

CONFIG = """\
version: 1
project: {name: digits}
environment:
  run_config: {tf_random_seed: 1, save_checkpoints_steps: 10, save_summary_steps: 10}
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {Adam: {learning_rate: 0.01}}
    metrics: [Accuracy]
    one_hot_encode: true
    n_classes: 10
    graph:
      input_layers: x
      layers:
        - Dense: {units: 16, activation: relu}
        - Dense: {units: 10}
train:
  train_steps: 20
  data_pipeline:
    NumpyPipeline:
      batch_size: 32
      data_files: [data/digits_train.npz]
      features: [x]
      label: y
eval:
  steps: 2
  data_pipeline:
    NumpyPipeline:
      batch_size: 64
      shuffle: false
      data_files: [data/digits_eval.npz]
      features: [x]
      label: y
"""
SWEEP = """\
matrix:
  learning_rate: {values: [0.01, 0.03]}
  units: {values: [8, 16]}
settings: {concurrent_experiments: 2}
"""


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[slurm_cluster.Slurm]:
    yield from slurm_cluster.cluster(tmp_path_factory.mktemp("slurm"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_npz(tmp_path / "data")
    return tmp_path


def compile_for_slurm(project: Path, text: str, out: str, *sets: str) -> None:
    config = project / "experiment.yaml"
    config.write_text(text)
    (project / out).parent.mkdir(exist_ok=True)
    options = [f"launch.python={sys.executable}", *sets]
    args = [a for s in options for a in ("--set", s)]
    plxgen(
        "compile", config, "-o", project / out, "--target", "slurm", *args, check=True
    )


def weights(checkpoint: Path) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(str(checkpoint))
    return {
        key: reader.get_tensor(key)
        for key in reader.get_variable_to_shape_map()
        if key.endswith("/.ATTRIBUTES/VARIABLE_VALUE") and "save_counter" not in key
    }


def test_a_sweep_is_an_array_that_runs_every_script(
    slurm: slurm_cluster.Slurm, project: Path
) -> None:
    text = CONFIG.replace(
        "{learning_rate: 0.01}", '{learning_rate: "{{ learning_rate }}"}'
    )
    text = text.replace("{units: 16,", '{units: "{{ units }}",') + SWEEP
    compile_for_slurm(project, text, "sweep/")
    batch = project / "sweep" / "experiment.sbatch"
    assert "#SBATCH --array=0-3%2" in batch.read_text()
    job = slurm.submit(batch)
    slurm.wait(job)
    index = json.loads((project / "sweep" / "matrix.json").read_text())
    for script, values in index["scripts"].items():
        run = project / "sweep" / "runs" / script.removesuffix(".py")
        assert (run / "metrics.json").exists(), (project / "sweep").glob("slurm-*.out")
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["global_step"] == 20 and metrics["resumed_from"] == 0
        recorded = json.loads((run / "config.json").read_text())["matrix"]
        assert {k: v["values"][0] for k, v in recorded.items()} == values
    # Submitted again, every task finds its run finished and trains nothing.
    before = {
        p: p.read_bytes() for p in (project / "sweep" / "runs").glob("*/metrics.json")
    }
    again = slurm.submit(batch)
    slurm.wait(again)
    assert {p: p.read_bytes() for p in before} == before
    logs = [
        (project / "sweep" / f"slurm-{again}_{i}.out").read_text() for i in range(4)
    ]
    assert all(
        re.fullmatch(
            r"runs/\S+ has finished \(it has its metrics.json\): nothing to do\n", log
        )
        for log in logs
    )


def test_a_cancelled_task_resubmitted_ends_as_an_uninterrupted_run(
    slurm: slurm_cluster.Slurm, project: Path
) -> None:
    compile_for_slurm(
        project,
        CONFIG,
        "run/digits.py",
        "train.data_pipeline.NumpyPipeline.num_epochs=100",
    )
    batch = project / "run" / "digits.sbatch"
    run = project / "run" / "runs" / "digits"
    job = slurm.submit(batch, "--train-steps", "1000000")
    deadline = time.monotonic() + 120
    while not list((run / "checkpoints").glob("ckpt-*.index")):
        assert time.monotonic() < deadline and slurm.states(job), slurm.log()
        time.sleep(0.2)
    slurm.run("scancel", job)
    slurm.wait(job)
    log = (project / "run" / f"slurm-{job}.out").read_text()
    stopped = re.search(r"stopped by SIGTERM at step (\d+); run again to resume", log)
    assert stopped, log
    step = int(stopped.group(1))
    assert (run / "checkpoints" / f"ckpt-{step}.index").exists() and not (
        run / "metrics.json"
    ).exists()

    end = step + 30
    again = slurm.submit(batch, "--train-steps", str(end))
    slurm.wait(again)
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["resumed_from"], metrics["global_step"]) == (step, end)
    whole = project / "whole"
    train(
        project / "run" / "digits.py",
        "--train-steps",
        str(end),
        "--model-dir",
        whole,
        check=True,
    )
    a, b = weights(run / "checkpoints" / f"ckpt-{end}"), weights(
        whole / "checkpoints" / f"ckpt-{end}"
    )
    assert a.keys() == b.keys() and len(a) >= 4
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_chief_and_a_worker_train_one_model_in_one_job(
    slurm: slurm_cluster.Slurm, project: Path
) -> None:
    try:  # the tasks find each other by the node's name, as on a cluster
        socket.gethostbyname(socket.gethostname().split(".")[0])
    except OSError:
        pytest.skip("this machine's short host name does not resolve")
    text = CONFIG.replace("environment:\n", "environment:\n  n_workers: 1\n")
    compile_for_slurm(project, text, "cluster/digits.py")
    batch = project / "cluster" / "digits.sbatch"
    assert "#SBATCH --ntasks=2" in batch.read_text()
    job = slurm.submit(batch)
    slurm.wait(job)
    log = (project / "cluster" / f"slurm-{job}.out").read_text()
    tasks = dict(
        re.findall(r"INFO task (chief|worker) 0 of the cluster, at (\S+)", log)
    )
    assert tasks.keys() == {"chief", "worker"}, log
    assert tasks["chief"] != tasks["worker"]
    # One model: each step's loss and accuracy are all-reduced over the two
    # tasks, so both log the same figures for the last step.
    last = re.findall(r"INFO (step 20/20: .*)", log)
    assert len(last) == 2 and last[0] == last[1], log
    metrics = json.loads(
        (project / "cluster" / "runs" / "digits" / "metrics.json").read_text()
    )
    assert metrics["global_step"] == 20
    assert last[0].endswith(f"accuracy {metrics['train']['accuracy']:.4g}"), (
        last,
        metrics,
    )
