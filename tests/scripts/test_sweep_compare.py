"""A sweep's runs compared: TensorBoard's HParams in their event files, and `plxgen results`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import plxgen, train

pytest.importorskip("tensorflow")
event_file_loader = pytest.importorskip(
    "tensorboard.backend.event_processing.event_file_loader"
)
plugin_data_pb2 = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2")

SWEEP = """\
version: 1
project: {name: blobs}
matrix:
  learning_rate: {values: [0.01, 0.1]}
  units: {values: [4]}
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {Adam: {learning_rate: "{{ learning_rate }}"}}
    metrics: [Accuracy]
    n_classes: 3
    graph:
      input_layers: x
      layers:
        - Dense: {units: "{{ units }}", activation: relu}
        - Dense: {units: 3}
train:
  train_steps: 2
  data_pipeline:
    TFRecordTabularPipeline:
      data_files: [data/npz_train.tfrecord]
      meta_data_file: data/meta_data.json
eval:
  data_pipeline:
    TFRecordTabularPipeline:
      data_files: [data/npz_eval.tfrecord]
      meta_data_file: data/meta_data.json
      shuffle: false
"""


def _hparams_events(folder: Path) -> dict[str, bytes]:
    """The HParams plugin's summaries written in folder (its own event files only), by tag."""
    found = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in event_file_loader.EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "hparams":
                    found[value.tag] = value.metadata.plugin_data.content
    return found


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-script sweep over a tabular classifier, each script trained 2 steps."""
    root = tmp_path_factory.mktemp("sweep")
    y = np.arange(90) % 3
    x = np.random.default_rng(0).normal(size=(90, 2)) + y[:, np.newaxis]
    np.savez(root / "blobs.npz", x=x, y=y)
    plxgen("data", "npz", "blobs.npz", "-o", "data", cwd=root, check=True)
    (root / "blobs.yaml").write_text(SWEEP)
    plxgen("compile", "blobs.yaml", "-o", "runs/", cwd=root, check=True)
    for script in sorted((root / "runs").glob("*.py")):
        train(script, check=True)
    return root


def test_each_run_logs_its_combination_to_hparams(sweep: Path) -> None:
    runs = sorted(p for p in (sweep / "runs").iterdir() if p.is_dir())
    assert [p.name for p in runs] == [
        "blobs-learning_rate_0.01-units_4",
        "blobs-learning_rate_0.1-units_4",
    ]
    for run, rate in zip(runs, (0.01, 0.1)):
        events = _hparams_events(run)
        assert set(events) == {"_hparams_/experiment", "_hparams_/session_start_info"}
        start = plugin_data_pb2.HParamsPluginData.FromString(
            events["_hparams_/session_start_info"]
        ).session_start_info
        assert start.hparams["learning_rate"].number_value == rate
        assert start.hparams["units"].number_value == 4
        assert start.group_name == run.name
        experiment = plugin_data_pb2.HParamsPluginData.FromString(
            events["_hparams_/experiment"]
        ).experiment
        assert [h.name for h in experiment.hparam_infos] == ["learning_rate", "units"]
        metrics = [(m.name.group, m.name.tag) for m in experiment.metric_infos]
        assert metrics == [("eval", "loss"), ("eval", "accuracy")]
        # The metrics the table shows are the eval scalars of the run's eval/ folder.
        assert list((run / "eval").glob("events.out.tfevents.*"))


def test_a_script_without_matrix_logs_no_hparams(sweep: Path) -> None:
    script = (sweep / "runs" / "blobs-learning_rate_0.1-units_4.py").read_text()
    assert "HPARAMS = {\"learning_rate\": 0.1, \"units\": 4}" in script
    single = sweep / "single.yaml"
    single.write_text(
        SWEEP.replace('"{{ learning_rate }}"', "0.1")
        .replace('"{{ units }}"', "4")
        .replace("matrix:\n  learning_rate: {values: [0.01, 0.1]}\n  units: {values: [4]}\n", "")
    )
    compiled = plxgen("compile", "single.yaml", cwd=sweep, check=True).stdout
    assert "hparams" not in compiled.lower()


def test_results_compares_the_runs(sweep: Path) -> None:
    done = plxgen("results", "runs", "--format", "json", "--sort", "learning_rate", cwd=sweep, check=True)
    objects = json.loads(done.stdout)
    assert [(o["run"], o["values"], o["global_step"]) for o in objects] == [
        ("runs/blobs-learning_rate_0.01-units_4", {"learning_rate": 0.01, "units": 4}, 2),
        ("runs/blobs-learning_rate_0.1-units_4", {"learning_rate": 0.1, "units": 4}, 2),
    ]
    assert all(set(o["eval"]) == {"loss", "accuracy"} for o in objects)
    table = plxgen("results", "runs", cwd=sweep, check=True).stdout.splitlines()
    assert table[0].split() == ["run", "learning_rate", "units", "global_step", "loss", "accuracy"]
    assert len(table) == 3


def test_an_rl_sweep_logs_its_combination_and_eval_returns(tmp_path: Path) -> None:
    pytest.importorskip("gymnasium")
    from tests.conftest import ROOT

    config = (ROOT / "generated_examples" / "dqn_cartpole.yaml").read_text()
    assert "learning_rate: 0.0023" in config
    config = config.replace("learning_rate: 0.0023", 'learning_rate: "{{ rate }}"')
    (tmp_path / "rl.yaml").write_text(
        config.replace("version: 1\n", "version: 1\nmatrix:\n  rate: {values: [0.001, 0.002]}\n", 1)
    )
    plxgen("compile", "rl.yaml", "-o", "runs/", cwd=tmp_path, check=True)
    script = tmp_path / "runs" / "rl-rate_0.001.py"
    train(script, "--model-dir", "one", "--train-steps", "30", "--eval-episodes", "1", check=True)
    events = _hparams_events(tmp_path / "runs" / "one")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        events["_hparams_/session_start_info"]
    ).session_start_info
    assert start.hparams["rate"].number_value == 0.001
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        events["_hparams_/experiment"]
    ).experiment
    metrics = [(m.name.group, m.name.tag) for m in experiment.metric_infos]
    assert metrics == [("eval", "mean_return"), ("eval", "mean_length")]
    done = plxgen("results", "runs", "--format", "json", cwd=tmp_path, check=True)
    [run] = json.loads(done.stdout)
    assert run["values"] == {"rate": 0.001} and run["global_step"] == 30
    assert "mean_return" in run["eval"]
