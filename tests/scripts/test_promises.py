"""A generated script's promises, each checked against its own definition.

- One line for bad data, with TensorFlow's reason and the file: a fault matrix
  of damage classes on the image pipeline, each line compared whole.
- Exact resume without a seed: the drawn seed is kept with the checkpoint, so
  a run killed (SIGKILL or SIGTERM) and resumed ends with exactly the weights
  of an uninterrupted `--seed S` run.
- Schedules read only what they use: evaluate, predict and export with the
  training files gone, export with the eval files gone too.
- Each thing once: one evaluation per checkpoint step, one event file per
  pipeline and run.
- A clean stderr at the default log level.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from plxgen.data.tfrecord import TFRecordWriter, encode_png, example_bytes
from tests.conftest import (
    ROOT,
    finished,
    import_script,
    plxgen,
    start_train,
    train_here,
)
from tests.pipeline_data import record_offsets
from tests.scripts.test_faults import wait_for_checkpoint

pytest.importorskip("tensorflow")

OFTEN = [
    "--set",
    "environment.run_config.save_checkpoints_steps=20",
    "--set",
    "environment.run_config.save_summary_steps=20",
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Digits data and two LeNets on it: seeded (the example) and unseeded."""
    root = tmp_path_factory.mktemp("promises")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    scripts = root / "generated_examples"
    scripts.mkdir()
    shutil.copy(ROOT / "generated_examples" / "lenet_digits.yaml", scripts)
    config = scripts / "lenet_digits.yaml"
    plxgen("compile", config, "-o", scripts / "lenet.py", *OFTEN, check=True)
    unseeded = [*OFTEN, "--set", "environment.run_config.tf_random_seed=null"]
    plxgen("compile", config, "-o", scripts / "unseeded.py", *unseeded, check=True)
    return root


def copy_of(workspace: Path, folder: Path) -> Path:
    """The workspace's data and scripts in `folder`, to damage freely."""
    shutil.copytree(workspace / "data", folder / "data")
    shutil.copytree(workspace / "generated_examples", folder / "generated_examples")
    return folder


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed run printed after its name."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    return errors[0].split(": error: ", 1)[1]


def write_images(path: Path, shape: tuple[int, int, int], label: int) -> None:
    """200 records of blank PNG images of `shape`, all with `label`."""
    image = encode_png(np.zeros(shape, np.uint8))
    writer = TFRecordWriter(path)
    writer.write_many(
        [
            example_bytes({"image/encoded": image, "image/class/label": label})
            for _ in range(200)
        ]
    )
    writer.close()


def damage(folder: Path, case: str) -> str:
    """Damage the copy in `folder` as `case` says; the line the run must print."""
    digits = folder / "data" / "digits"
    records, evals = digits / "digits_train.tfrecord", digits / "digits_eval.tfrecord"
    section = "train.data_pipeline"
    if case == "missing file":
        records.unlink()
        scripts = folder / "generated_examples"
        return (
            f"data file not found: {records} (../data/digits/digits_train.tfrecord "
            f"from the config, relative to this script's folder {scripts})"
        )
    if case == "truncated file":
        records.write_bytes(records.read_bytes()[:-100])
        return f"corrupt TFRecord file {records}: it ends inside a record (truncated?)"
    if case == "flipped byte":
        data = bytearray(records.read_bytes())
        flipped = len(data) // 2
        data[flipped] ^= 0xFF
        records.write_bytes(bytes(data))
        # TensorFlow's reason: the checksum of the record holding that byte fails;
        # it gives where the record's data begins, after its 12-byte header.
        start = max(o for o in record_offsets(records) if o <= flipped)
        at = start + 12
        return f"{section}: corrupt record in {records}: corrupted record at {at}"
    if case == "not an example":
        writer = TFRecordWriter(records)
        writer.write_many([b"\xff\xfe not a protocol buffer"] * 100)
        writer.close()
        return f"{section}: {records}: a record is not a tf.train.Example"
    if case == "label too large":
        write_images(records, (28, 28, 1), 12)
        return f"{section}: {records}: labels outside 0..9: 12 12 12..."
    if case == "negative label":
        write_images(records, (28, 28, 1), -1)
        return f"{section}: {records}: labels outside 0..9: -1 -1 -1..."
    if case == "image of another size":
        write_images(records, (32, 32, 1), 3)
        meta = "../data/digits/meta_data.json"
        return (
            f"{section}: {records}: the shape of an image differs from [28, 28, 1] "
            f"in {meta}: 32 32 1"
        )
    if case == "empty eval file":
        evals.write_bytes(b"")
        return f"eval.data_pipeline: no examples in {evals}"
    raise AssertionError(case)


DAMAGE = [
    "missing file",
    "truncated file",
    "flipped byte",
    "not an example",
    "label too large",
    "negative label",
    "image of another size",
    "empty eval file",
]


@pytest.mark.parametrize("case", DAMAGE)
def test_bad_data_is_one_line_with_the_file_and_the_reason(
    workspace: Path, tmp_path: Path, case: str
) -> None:
    folder = copy_of(workspace, tmp_path)
    expected = damage(folder, case)
    script = folder / "generated_examples" / "lenet.py"
    steps = ["--train-steps", "20"]
    result = train_here(script, *steps, "--model-dir", tmp_path / "run", cwd=folder)
    assert one_error(result) == expected


def test_a_model_that_does_not_fit_names_the_layer_as_the_config_does(
    workspace: Path, tmp_path: Path
) -> None:
    folder = copy_of(workspace, tmp_path)
    config = folder / "generated_examples" / "lenet_digits.yaml"
    text = config.read_text()
    reshape = "        - Reshape: {target_shape: [64, 64]}\n        - Flatten:\n"
    config.write_text(text.replace("        - Flatten:\n", reshape))
    script = folder / "generated_examples" / "misfit.py"
    plxgen("compile", config, "-o", script, check=True)
    result = train_here(script, "--train-steps", "1", "--model-dir", tmp_path / "run")
    # Keras' reason, whole, after the layer's name in the config (its first Reshape).
    assert one_error(result) == (
        "the model does not fit the data: Reshape_1: The total size of the tensor "
        "must be unchanged. Received: input_shape=(7, 7, 64), target_shape=(64, 64)"
    )


def test_a_bug_in_the_script_keeps_its_traceback_and_exits_123(
    workspace: Path, tmp_path: Path
) -> None:
    folder = copy_of(workspace, tmp_path)
    script = folder / "generated_examples" / "lenet.py"
    # A runtime bug inside the training loop, where data errors are caught too.
    text = script.read_text()
    bug = "loss = float(self.train_loss.result())\n"
    assert text.count(bug) == 1
    script.write_text(text.replace(bug, 'loss = float(self.train_loss.result()) + {}[None]\n'))
    result = train_here(script, "--train-steps", "20", "--model-dir", tmp_path / "run")
    assert result.returncode == 123
    assert "Traceback" in result.stderr and "KeyError: None" in result.stderr
    assert "does not fit" not in result.stderr


def checkpoint_values(checkpoint: Path) -> dict[str, np.ndarray]:
    """Every variable of a checkpoint but its save counter.

    (Its object graph names the optimizer, which Keras numbers within a process.)
    """
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(checkpoint))
    return {
        key: reader.get_tensor(key)
        for key in reader.get_variable_to_shape_map()
        if key.endswith("/.ATTRIBUTES/VARIABLE_VALUE") and "save_counter" not in key
    }


@pytest.mark.parametrize(
    "kill",
    # SIGTERM's checkpoint is the one a SIGKILLed run resumes from too.
    [signal.SIGKILL, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["SIGKILL", "SIGTERM"],
)
def test_an_unseeded_run_resumed_ends_as_the_uninterrupted_run_of_its_seed(
    workspace: Path, tmp_path: Path, kill: signal.Signals
) -> None:
    script = workspace / "generated_examples" / "unseeded.py"
    steps = ["--train-steps", "80", "--schedule", "train"]
    killed = tmp_path / "killed"
    process = start_train(script, *steps, "--model-dir", killed, cwd=workspace)
    wait_for_checkpoint(killed / "checkpoints", 40, process)
    process.send_signal(kill)
    process.wait(timeout=120)
    resumed = train_here(script, *steps, "--model-dir", killed, cwd=workspace, check=True)
    report = json.loads((killed / "metrics.json").read_text())
    assert report["resumed_from"] >= 40 and report["global_step"] == 80
    seed = report["seed"]
    assert f"seed {seed}, drawn" not in resumed.stderr  # the kept seed, not a new one

    whole = tmp_path / "whole"
    train_here(script, *steps, "--seed", str(seed), "--model-dir", whole, cwd=workspace, check=True)  # fmt: skip
    assert json.loads((whole / "metrics.json").read_text())["seed"] == seed
    a = checkpoint_values(killed / "checkpoints" / "ckpt-80")
    b = checkpoint_values(whole / "checkpoints" / "ckpt-80")
    assert a.keys() == b.keys() and len(a) > 10
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_schedules_read_only_their_data_and_training_checks_it_once(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The script's own `main`, in this process: each run's framing checks are counted."""
    folder = copy_of(workspace, tmp_path)
    digits = folder / "data" / "digits"
    script = import_script(folder / "generated_examples" / "lenet.py")
    checked: list[str] = []
    framing = script.check_framing

    def counted(path: str) -> None:
        checked.append(Path(path).name)
        framing(path)

    monkeypatch.setattr(script, "check_framing", counted)

    def run(*args: str) -> int:
        checked.clear()
        return script.main([*args, "--model-dir", str(tmp_path / "run")])

    # Trained, then resumed: the train file is checked once per run.
    for steps in ("10", "20"):
        assert run("--train-steps", steps, "--schedule", "train") == 0
        assert checked == ["digits_train.tfrecord"]
    (digits / "digits_train.tfrecord").unlink()
    for schedule in ("evaluate", "predict", "export"):
        assert run("--schedule", schedule) == 0, capsys.readouterr().err
        assert "digits_train.tfrecord" not in checked
    report = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"eval", "predict", "export"} <= report.keys()
    # Export needs only the meta data: the image records' shapes are in it.
    (digits / "digits_eval.tfrecord").unlink()
    shutil.rmtree(tmp_path / "run" / "export")
    capsys.readouterr()
    assert run("--schedule", "export") == 0, capsys.readouterr().err
    assert checked == []
    assert (tmp_path / "run" / "export" / "20" / "saved_model.pb").is_file()
    # Training still needs them, and says so.
    assert run("--train-steps", "40") == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"lenet.py: error: data file not found: {digits / 'digits_train.tfrecord'} "
        "(../data/digits/digits_train.tfrecord from the config, relative to this "
        f"script's folder {folder / 'generated_examples'})"
    )


def test_one_evaluation_per_checkpoint_step_and_one_event_file_per_pipeline(
    workspace: Path, tmp_path: Path
) -> None:
    folder = copy_of(workspace, tmp_path)
    script = folder / "generated_examples" / "often.py"
    config = folder / "generated_examples" / "lenet_digits.yaml"
    throttle = ["--set", "eval.continuous_eval_throttle_secs=0"]
    plxgen("compile", config, "-o", script, *OFTEN, *throttle, check=True)
    model_dir = tmp_path / "run"
    result = train_here(script, "--train-steps", "60", "--model-dir", model_dir, check=True)
    evaluated = [
        int(line.split("eval at step ")[1].split()[0])
        for line in result.stderr.splitlines()
        if "eval at step " in line
    ]
    assert evaluated == [20, 40, 60]
    for pipeline in ("train", "eval"):
        events = list((model_dir / pipeline).glob("events.out.tfevents.*"))
        assert len(events) == 1, events


def test_stderr_holds_our_lines_only_at_the_default_log_level(
    workspace: Path, tmp_path: Path
) -> None:
    folder = copy_of(workspace, tmp_path)
    damage(folder, "flipped byte")
    script = folder / "generated_examples" / "lenet.py"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen(
        [sys.executable, script, "--train-steps", "20", "--model-dir", tmp_path / "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=folder,
    )
    result = finished(process)
    assert result.returncode == 1
    # Every line is the script's: its log lines (time, level) or its one error.
    for line in result.stderr.splitlines():
        assert line.startswith(("lenet.py: error: ", "20")), result.stderr
