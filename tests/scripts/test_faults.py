"""Generated scripts under faults: SIGKILL, SIGTERM, a diverging loss, bad data files."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, finished, plxgen, start_train, train


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Digits data plus variants of the examples that checkpoint often."""
    root = tmp_path_factory.mktemp("faults")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    scripts = root / "generated_examples"
    scripts.mkdir()
    often = [
        "--set",
        "environment.run_config.save_checkpoints_steps=20",
        "--set",
        "environment.run_config.save_summary_steps=20",
    ]
    variants = {
        "lenet": ("lenet_digits.yaml", often),
        "regressor": ("digits_regressor.yaml", often),
        "diverging": (
            "digits_regressor.yaml",
            [
                *often,
                "--set",
                "model.regressor.optimizer={SGD: {learning_rate: 1.0e+6}}",
                "--set",
                "model.regressor.clip_gradients=0",
            ],
        ),
    }
    for name, (config, sets) in variants.items():
        # The config sits beside the script, so its ../data paths mean this workspace's data.
        shutil.copy(ROOT / "generated_examples" / config, scripts)
        plxgen("compile", scripts / config, "-o", scripts / f"{name}.py", *sets, check=True)  # fmt: skip
    return root


def start(workspace: Path, name: str, *args: str) -> subprocess.Popen[str]:
    """Start generated_examples/NAME.py in the workspace, without waiting."""
    script = workspace / "generated_examples" / f"{name}.py"
    return start_train(script, *args, cwd=workspace)


def run(workspace: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run generated_examples/NAME.py in the workspace to its end."""
    return finished(start(workspace, name, *args))


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def wait_for_checkpoint(
    folder: Path, step: int, process: subprocess.Popen[str], timeout: float = 300
) -> None:
    """Wait until `folder`'s checkpoint state names ckpt-<step>: the save is complete."""
    state = folder / "checkpoint"
    deadline = time.monotonic() + timeout
    while not (state.exists() and f"ckpt-{step}\"" in state.read_text()):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"ckpt-{step} never recorded in {state}"
        time.sleep(0.02)


def metrics(model_dir: Path) -> dict:
    return json.loads((model_dir / "metrics.json").read_text())


# test_model_dir kills a run at each rename and compares weight for weight; this
# one kills LeNet (Dropout, a decay) at a time, and compares the evaluations.
@pytest.mark.slow
def test_sigkill_then_rerun_finishes_as_if_uninterrupted(workspace: Path) -> None:
    """Weights, optimizer, data position and Dropout's random state all resume exactly."""
    whole = workspace / "runs" / "whole"
    assert (
        run(
            workspace, "lenet", "--model-dir", str(whole), "--train-steps", "100"
        ).returncode
        == 0
    )

    killed = workspace / "runs" / "killed"
    process = start(
        workspace, "lenet", "--model-dir", str(killed), "--train-steps", "100"
    )
    wait_for_checkpoint(killed / "checkpoints", 40, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = run(
        workspace, "lenet", "--model-dir", str(killed), "--train-steps", "100"
    )
    assert resumed.returncode == 0, resumed.stderr

    report = metrics(killed)
    assert report["resumed_from"] >= 40 and report["global_step"] == 100
    assert report["eval"] == metrics(whole)["eval"]


def test_sigterm_saves_a_checkpoint_and_stops_cleanly(workspace: Path) -> None:
    model_dir = workspace / "runs" / "preempted"
    process = start(
        workspace,
        "regressor",
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "1000000",
    )
    wait_for(model_dir / "checkpoints" / "ckpt-20.index", process)
    process.send_signal(signal.SIGTERM)
    stderr = finished(process, timeout=120).stderr
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr
    line = [text for text in stderr.splitlines() if "stopped by SIGTERM" in text]
    assert len(line) == 1, stderr
    step = int(line[0].split("at step ")[1].split(";")[0])
    assert (model_dir / "checkpoints" / f"ckpt-{step}.index").exists()

    resumed = run(
        workspace,
        "regressor",
        "--model-dir",
        str(model_dir),
        "--train-steps",
        str(step + 20),
        "--schedule",
        "train",
    )
    assert resumed.returncode == 0, resumed.stderr
    assert (metrics(model_dir)["resumed_from"], metrics(model_dir)["global_step"]) == (
        step,
        step + 20,
    )


def test_a_diverging_loss_stops_and_keeps_the_last_good_checkpoint(
    workspace: Path,
) -> None:
    model_dir = workspace / "runs" / "diverging"
    result = run(
        workspace, "diverging", "--model-dir", str(model_dir), "--train-steps", "400"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "training loss became" in errors[0], result.stderr
    assert not (model_dir / "metrics.json").exists()
    # Whatever was saved before the loss broke is finite: it restores and evaluates.
    index = model_dir / "checkpoints" / "checkpoint"
    if index.exists():
        evaluated = run(
            workspace,
            "diverging",
            "--model-dir",
            str(model_dir),
            "--schedule",
            "evaluate",
        )
        assert evaluated.returncode == 0, evaluated.stderr


# test_model_dir covers this weight for weight: kills at each rename, damaged
# checkpoints, a full disk's half-saved one.
@pytest.mark.slow
def test_leftovers_of_a_killed_save_do_not_break_the_next_run(workspace: Path) -> None:
    """A kill mid-save leaves files the checkpoint index does not name yet, and temp files."""
    model_dir = workspace / "runs" / "leftovers"
    assert (
        run(
            workspace,
            "regressor",
            "--model-dir",
            str(model_dir),
            "--train-steps",
            "20",
            "--schedule",
            "train",
        ).returncode
        == 0
    )
    checkpoints = model_dir / "checkpoints"
    (checkpoints / "ckpt-40.index").write_bytes(b"\x00half")
    (checkpoints / "ckpt-40.data-00000-of-00001").write_bytes(b"")
    (model_dir / "metrics.json.tmp-12345").write_text("{")
    result = run(
        workspace,
        "regressor",
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "40",
        "--schedule",
        "train",
    )
    assert result.returncode == 0, result.stderr
    assert (metrics(model_dir)["resumed_from"], metrics(model_dir)["global_step"]) == (
        20,
        40,
    )


@pytest.mark.parametrize("damage", ["truncated", "meta-mismatch", "meta-garbage"])
def test_bad_data_is_one_line_naming_the_file(
    workspace: Path, tmp_path: Path, damage: str
) -> None:
    shutil.copytree(workspace / "data", tmp_path / "data")
    shutil.copytree(workspace / "generated_examples", tmp_path / "generated_examples")
    records = tmp_path / "data" / "digits" / "digits_train.tfrecord"
    meta = tmp_path / "data" / "digits" / "meta_data.json"
    if damage == "truncated":
        records.write_bytes(records.read_bytes()[:-100])
        named, words = records, "corrupt"
    elif damage == "meta-mismatch":
        values = json.loads(meta.read_text())
        values["height"] = 32
        meta.write_text(json.dumps(values))
        named, words = records, "the shape of an image differs from [32, 28, 1]"
    else:
        meta.write_text("{not json")
        named, words = meta, "cannot read meta data"
    result = run(
        tmp_path,
        "regressor",
        "--model-dir",
        str(tmp_path / "run"),
        "--train-steps",
        "400",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and words in errors[0], result.stderr
    if named is not None:
        assert str(named) in errors[0]


def _npz_script(folder: Path, images: object, filters: int) -> Path:
    """A small convolutional classifier over an npz file of 8x8 images, compiled in folder."""
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(folder / "d.npz", x=images, y=rng.integers(0, 3, len(images)))  # type: ignore[arg-type]
    (folder / "c.yaml").write_text(
        f"""version: 1
project: {{name: small}}
environment: {{run_config: {{tf_random_seed: 1}}}}
model:
  classifier:
    loss: SoftmaxCrossEntropy
    optimizer: {{Adam: {{learning_rate: 0.01}}}}
    metrics: [Accuracy]
    one_hot_encode: true
    n_classes: 3
    graph:
      input_layers: x
      layers:
        - Conv2D: {{filters: {filters}, kernel_size: 3}}
        - Flatten:
        - Dense: {{units: 3}}
train:
  train_steps: 2
  data_pipeline:
    NumpyPipeline: {{batch_size: 32, num_epochs: 1, data_files: [d.npz], features: [x], label: y}}
"""
    )
    plxgen("compile", folder / "c.yaml", "-o", folder / "c.py", "--force", check=True)
    return folder / "c.py"


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_dtype_the_model_does_not_take_is_one_line(tmp_path: Path) -> None:
    # Arrays reach the model as they are stored: uint8 images, no Cast processor.
    import numpy as np

    images = np.random.default_rng(0).integers(0, 255, (64, 8, 8, 1), dtype=np.uint8)
    script = _npz_script(tmp_path, images, filters=4)
    error = one_error(train(script, "--schedule", "train"))
    assert "does not fit the model" in error and "Conv2D" in error and "uint8" in error


# test_model_dir checks the whole line (the weight and both shapes).
@pytest.mark.slow
def test_a_checkpoint_of_another_model_is_one_line(tmp_path: Path) -> None:
    import numpy as np

    images = np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)
    script = _npz_script(tmp_path, images, filters=4)
    train(script, "--schedule", "train", check=True)
    _npz_script(tmp_path, images, filters=5)  # the same model folder, another model
    error = one_error(train(script, "--schedule", "train"))
    assert "written by another model" in error and "ckpt-2" in error
