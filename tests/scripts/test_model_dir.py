"""The model dir under faults: kills at every rename, damaged checkpoints, two
trainers, full and read-only disks, and a config changed between two runs.

Each test compares with the promise's own definition: a resumed run with an
uninterrupted one, weight for weight; a file set with what a reader sees after
each kill point; an error line with the reason and the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, plxgen, start_train, train
from tests.scripts.test_faults import wait_for_checkpoint
from tests.scripts.test_promises import one_error

OFTEN = [
    "--set",
    "environment.run_config.save_checkpoints_steps=20",
    "--set",
    "environment.run_config.save_summary_steps=20",
    "--set",
    "environment.run_config.keep_checkpoint_max=10",
]
STRACE = shutil.which("strace")
needs_strace = pytest.mark.skipif(not STRACE, reason="strace is not installed")
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="mounting a tmpfs or a read-only bind needs root"
)


def optimizer(text: str) -> list[str]:
    return ["--set", f"model.regressor.optimizer={text}"]


# The digits regressor (a small dense model: its checkpoints are 0.4 MB) with
# Adam and no decay, and the variants a user makes of it between two runs.
VARIANTS = {
    "base": ("digits_regressor.yaml", [*OFTEN, *optimizer("{Adam: {learning_rate: 0.001}}")]),
    "fast": ("digits_regressor.yaml", [*OFTEN, *optimizer("{Adam: {learning_rate: 0.05}}")]),
    "sgd": ("digits_regressor.yaml", [*OFTEN, *optimizer("{SGD: {learning_rate: 0.0001}}")]),
    "rmsprop": ("digits_regressor.yaml", [*OFTEN, *optimizer("{RMSProp: {learning_rate: 0.0001}}")]),
    "narrow": ("narrow.yaml", [*OFTEN, *optimizer("{Adam: {learning_rate: 0.001}}")]),
    "tanh": ("tanh.yaml", [*OFTEN, *optimizer("{Adam: {learning_rate: 0.001}}")]),
    # Trains until it is killed.
    "endless": ("digits_regressor.yaml", [*OFTEN, *optimizer("{Adam: {learning_rate: 0.001}}"), "--set", "train.data_pipeline.TFRecordImagePipeline.num_epochs=100000"]),
    # Summaries every 20 steps, checkpoints every 10: a resume inside a summary window.
    "halves": (
        "digits_regressor.yaml",
        [
            "--set",
            "environment.run_config.save_checkpoints_steps=10",
            "--set",
            "environment.run_config.save_summary_steps=20",
            *optimizer("{Adam: {learning_rate: 0.001}}"),
        ],
    ),
    # One update makes the weights infinite while the loss before it was finite.
    "overflowing": (
        "digits_regressor.yaml",
        [
            "--set",
            "environment.run_config.save_checkpoints_steps=1",
            "--set",
            "environment.run_config.save_summary_steps=1",
            "--set",
            "model.regressor.clip_gradients=0",
            *optimizer("{SGD: {learning_rate: 3.0e+38}}"),
        ],
    ),
    # Weights that stay finite for two steps and give an infinite eval loss.
    "diverging": (
        "digits_regressor.yaml",
        [
            "--set",
            "environment.run_config.save_checkpoints_steps=1",
            "--set",
            "environment.run_config.save_summary_steps=1",
            "--set",
            "model.regressor.clip_gradients=0",
            *optimizer("{SGD: {learning_rate: 1.0e+6}}"),
        ],
    ),
    # 359 eval batches: an evaluation of several compiled calls.
    "one_by_one": ("digits_regressor.yaml", [*OFTEN, *optimizer("{Adam: {learning_rate: 0.001}}"), "--set", "eval.data_pipeline.TFRecordImagePipeline.batch_size=1"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Digits data, the variants, and the base trained to 40 and (apart) to 60."""
    root = tmp_path_factory.mktemp("model_dir")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    scripts = root / "generated_examples"
    scripts.mkdir()
    text = (ROOT / "generated_examples" / "digits_regressor.yaml").read_text()
    (scripts / "digits_regressor.yaml").write_text(text)
    (scripts / "narrow.yaml").write_text(text.replace("units: 128", "units: 96"))
    (scripts / "tanh.yaml").write_text(text.replace("{units: 64, activation: relu}", "{units: 64, activation: tanh}"))  # fmt: skip
    for name, (config, sets) in VARIANTS.items():
        plxgen("compile", scripts / config, "-o", scripts / f"{name}.py", *sets, check=True)  # fmt: skip
    run(root, "base", root / "trained", "--train-steps", "40", "--schedule", "train", check=True)  # fmt: skip
    run(root, "base", root / "whole", "--train-steps", "60", "--schedule", "train", check=True)  # fmt: skip
    return root


def run(
    workspace: Path, name: str, model_dir: Path, *args: str | Path, check: bool = False
) -> subprocess.CompletedProcess[str]:
    script = workspace / "generated_examples" / f"{name}.py"
    return train(script, "--model-dir", model_dir, *args, cwd=workspace, check=check)


def trained_copy(workspace: Path, folder: Path) -> Path:
    """A copy of the base trained to step 40 (ckpt-20 and ckpt-40)."""
    shutil.copytree(workspace / "trained", folder)
    return folder


def report(model_dir: Path) -> dict:
    return json.loads((model_dir / "metrics.json").read_text())


def checkpoint_values(checkpoint: Path) -> dict[str, np.ndarray]:
    """Every variable of a checkpoint but its save counter, by key ('/' as '|')."""
    tf = pytest.importorskip("tensorflow")
    reader = tf.train.load_checkpoint(str(checkpoint))
    keys = [k for k in reader.get_variable_to_shape_map() if "save_counter" not in k]
    return {k.replace("/", "|"): reader.get_tensor(k) for k in keys}


def slow(*values: object) -> object:
    return pytest.param(*values, marks=pytest.mark.slow)


def assert_ends_as_the_uninterrupted_run(workspace: Path, model_dir: Path) -> None:
    """ckpt-60 of `model_dir` holds exactly the weights and state of the base run to 60."""
    a = checkpoint_values(model_dir / "checkpoints" / "ckpt-60")
    b = checkpoint_values(workspace / "whole" / "checkpoints" / "ckpt-60")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def files(folder: Path) -> dict[str, str]:
    """Each file under `folder` by relative path, with its sha256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(" WARNING ", 1)[1] for line in result.stderr.splitlines() if " WARNING " in line]  # fmt: skip


# ---- A config changed between two runs ----


def test_a_changed_learning_rate_applies_from_the_resume(
    workspace: Path, tmp_path: Path
) -> None:
    changed = trained_copy(workspace, tmp_path / "changed")
    result = run(workspace, "fast", changed, "--train-steps", "60", "--schedule", "train", check=True)  # fmt: skip
    assert (
        "learning rate 0.05 from step 40 on (ckpt-40 trained with 0.001)"
        in result.stderr
    )
    kept = checkpoint_values(changed / "checkpoints" / "ckpt-60")
    assert kept["optimizer|_learning_rate|.ATTRIBUTES|VARIABLE_VALUE"] == np.float32(
        0.05
    )
    # Not the weights of the run that went on at 0.001 (which is what a restored
    # rate gave).
    whole = checkpoint_values(workspace / "whole" / "checkpoints" / "ckpt-60")
    weights = "optimizer|_trainable_variables|0|.ATTRIBUTES|VARIABLE_VALUE"
    assert np.abs(kept[weights] - whole[weights]).max() > 1e-3


@pytest.mark.parametrize(("name", "kind"), [("sgd", "SGD"), slow("rmsprop", "RMSProp")])
def test_another_optimizer_starts_its_state_again_with_the_weights_and_step(
    workspace: Path, tmp_path: Path, name: str, kind: str
) -> None:
    changed = trained_copy(workspace, tmp_path / name)
    result = run(workspace, name, changed, "--train-steps", "41", "--schedule", "train")
    assert result.returncode == 0, result.stderr
    assert warnings(result) == [
        f"ckpt-40's optimizer state is Adam's, not this {kind}'s: it starts again at step 40"
    ]
    assert "WARNING:tensorflow" not in result.stderr  # no unrestored-slot lists
    assert (report(changed)["resumed_from"], report(changed)["global_step"]) == (40, 41)
    # One small step from ckpt-40's weights, not from new ones.
    before = checkpoint_values(changed / "checkpoints" / "ckpt-40")
    after = checkpoint_values(changed / "checkpoints" / "ckpt-41")
    weights = [k for k in before if k.startswith("optimizer|_trainable_variables|")]
    assert len(weights) == 6
    for key in weights:
        assert np.abs(after[key] - before[key]).max() < 0.01, key
    slots = [k for k in after if k.startswith("optimizer|_variables|")]
    assert len(slots) == (0 if name == "sgd" else 6)  # RMSProp: one velocity per weight
    # ckpt-41 is this optimizer's: the next resume restores its state whole.
    again = run(workspace, name, changed, "--train-steps", "42", "--schedule", "train")
    assert again.returncode == 0, again.stderr
    assert warnings(again) == []
    assert report(changed)["resumed_from"] == 41


def test_layers_of_other_shapes_are_refused_with_the_layer_and_both_shapes(
    workspace: Path, tmp_path: Path
) -> None:
    changed = trained_copy(workspace, tmp_path / "narrow")
    before = files(changed)
    error = one_error(run(workspace, "narrow", changed, "--train-steps", "60"))
    assert error == (
        "ckpt-40 was written by another model: Dense_1/kernel is (784, 96) here, "
        "(784, 128) in ckpt-40 (and 2 more) (train this one in another --model-dir)"
    )
    # config.json still describes the checkpoints; nothing but the lock was written.
    del before["lock"]
    assert {k: v for k, v in files(changed).items() if k != "lock"} == before


@pytest.mark.slow
def test_a_changed_layer_with_the_same_shapes_resumes_and_says_so(
    workspace: Path, tmp_path: Path
) -> None:
    changed = trained_copy(workspace, tmp_path / "tanh")
    result = run(
        workspace, "tanh", changed, "--train-steps", "60", "--schedule", "train"
    )
    assert result.returncode == 0, result.stderr
    assert warnings(result) == [
        "ckpt-40 was trained by another model section: "
        'model.regressor.graph.layers[2].Dense.activation: "relu" -> "tanh"'
    ]
    config = json.loads((changed / "config.json").read_text())
    assert (
        config["model"]["regressor"]["graph"]["layers"][2]["Dense"]["activation"]
        == "tanh"
    )


# ---- Two processes, one model dir ----


def test_a_second_trainer_stops_at_once_naming_the_running_one(
    workspace: Path, tmp_path: Path
) -> None:
    shared = trained_copy(workspace, tmp_path / "shared")
    script = workspace / "generated_examples" / "endless.py"
    first = start_train(script, "--model-dir", shared, "--train-steps", "100000", "--schedule", "train", cwd=workspace)  # fmt: skip
    try:
        wait_for_checkpoint(shared / "checkpoints", 60, first)
        error = one_error(
            run(workspace, "base", shared, "--seed", "2", "--schedule", "train")
        )
        holder = f"pid {first.pid} on {socket.gethostname()} since "
        assert error.startswith(f"another run trains in {shared} ({holder}")
        assert error.endswith(
            "): wait for it to end, or give this run another --model-dir"
        )
        # Evaluating beside it reads one whole checkpoint.
        beside = run(workspace, "base", shared, "--schedule", "evaluate")
        assert beside.returncode == 0, beside.stderr
        step = report(shared)["global_step"]
        assert step % 20 == 0 and step >= 60
    finally:
        first.kill()
        first.wait(timeout=60)
    # The lock died with its process: nothing stale is left to remove.
    again = run(workspace, "base", shared, "--train-steps", "1", "--schedule", "train")
    assert again.returncode == 0, again.stderr
    assert "already trained" in again.stderr


# ---- A damaged model dir ----


def cut(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    # case: (what it does to model_dir/checkpoints, the checkpoint it resumes from)
    "state-empty": (lambda c: (c / "checkpoint").write_bytes(b""), 40),
    "state-binary": (lambda c: (c / "checkpoint").write_bytes(b"\xff\xfe\x00\x01"), 40),
    "state-garbage": (lambda c: (c / "checkpoint").write_text("hello world\n"), 40),
    "state-deleted": (lambda c: (c / "checkpoint").unlink(), 40),
    "state-names-a-missing-checkpoint": (
        lambda c: (c / "checkpoint").write_text('model_checkpoint_path: "ckpt-99"\n'), 40
    ),
    "newest-index-cut": (lambda c: cut(c / "ckpt-40.index", 10), 20),
    "newest-index-missing": (lambda c: (c / "ckpt-40.index").unlink(), 20),
    "newest-data-cut": (lambda c: cut(c / "ckpt-40.data-00000-of-00001", 1000), 20),
    "newest-data-missing": (lambda c: (c / "ckpt-40.data-00000-of-00001").unlink(), 20),
    "newest-data-flipped": (lambda c: flip(c / "ckpt-40.data-00000-of-00001"), 20),
}  # fmt: skip


QUICK_DAMAGE = {"state-garbage", "newest-data-cut"}


@pytest.mark.parametrize("case", [c if c in QUICK_DAMAGE else slow(c) for c in DAMAGE])
def test_a_damaged_model_dir_resumes_from_its_newest_intact_checkpoint(
    workspace: Path, tmp_path: Path, case: str
) -> None:
    damaged = trained_copy(workspace, tmp_path / "damaged")
    damage, resumed_from = DAMAGE[case]
    damage(damaged / "checkpoints")
    intact = {
        k: v for k, v in files(damaged).items() if k.startswith("checkpoints/ckpt-20.")
    }
    # TensorFlow's reason for the damaged ckpt-40, read before the run saves it again.
    if case == "newest-index-missing":
        why = "its .index file is missing"
    elif resumed_from == 20:
        why = tensorflows_reason(damaged / "checkpoints" / "ckpt-40")
    result = run(
        workspace, "base", damaged, "--train-steps", "60", "--schedule", "train"
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (report(damaged)["resumed_from"], report(damaged)["global_step"]) == (
        resumed_from,
        60,
    )
    # The older checkpoint was not written over, and the run ends exactly as the
    # uninterrupted one.
    assert {k: v for k, v in files(damaged).items() if k in intact} == intact
    assert_ends_as_the_uninterrupted_run(workspace, damaged)
    if resumed_from == 20:
        assert warnings(result)[0] == (
            f"skipped the damaged ckpt-40 ({why}): "
            f"resuming from {damaged / 'checkpoints' / 'ckpt-20'}"
        )


def tensorflows_reason(checkpoint: Path) -> str:
    """The first line of what TensorFlow says as it reads `checkpoint` whole."""
    tf = pytest.importorskip("tensorflow")
    try:
        reader = tf.train.load_checkpoint(str(checkpoint))
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except (tf.errors.OpError, IndexError, ValueError) as error:
        return str(error).splitlines()[0]
    raise AssertionError(f"{checkpoint} reads whole")


@pytest.mark.slow
def test_a_model_dir_whose_checkpoints_are_all_damaged_is_one_line_and_left_alone(
    workspace: Path, tmp_path: Path
) -> None:
    damaged = trained_copy(workspace, tmp_path / "damaged")
    for step in (20, 40):
        cut(damaged / "checkpoints" / f"ckpt-{step}.index", 10)
    before = files(damaged)
    error = one_error(run(workspace, "base", damaged, "--train-steps", "60"))
    sstable = "file is too short to be an sstable"
    assert error == (
        f"no checkpoint in {damaged / 'checkpoints'} reads whole: ckpt-40 ({sstable}); "
        f"ckpt-20 ({sstable}) (move them away to train from step 0)"
    )
    # Only the lock names this run as its last holder.
    del before["lock"]
    assert {k: v for k, v in files(damaged).items() if k != "lock"} == before


# ---- Non-finite numbers ----


def test_no_checkpoint_holds_non_finite_weights(
    workspace: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "overflowing"
    error = one_error(run(workspace, "overflowing", model_dir, "--train-steps", "5"))
    assert (
        error
        == "the weights became NaN or infinite after step 0; stopped without saving"
    )
    assert not list(model_dir.glob("checkpoints/ckpt-*"))


def test_metrics_json_is_strict_json_with_null_for_a_non_finite_value(
    workspace: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "diverging"
    error = one_error(run(workspace, "diverging", model_dir, "--train-steps", "5", "--schedule", "train"))  # fmt: skip
    assert error == "the training loss became inf after step 2; stopped without saving"
    result = run(
        workspace, "diverging", model_dir, "--schedule", "evaluate", check=True
    )

    def strict(constant: str) -> None:
        raise AssertionError(f"{constant} in metrics.json")

    text = (model_dir / "metrics.json").read_text()
    evaluated = json.loads(text, parse_constant=strict)["eval"]
    assert evaluated["loss"] is None
    assert "eval.loss is inf: written as null" in warnings(result)


# ---- Files and disks ----


def test_a_file_that_is_not_what_it_should_be_is_one_line(
    workspace: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert (
        one_error(run(workspace, "base", a_file))
        == f"--model-dir {a_file} is a file, not a folder"
    )

    folder = trained_copy(workspace, tmp_path / "config_folder")
    (folder / "config.json").unlink()
    (folder / "config.json").mkdir()
    error = one_error(run(workspace, "base", folder, "--schedule", "evaluate"))
    assert error == f"cannot write {folder / 'config.json'}: Is a directory"

    garbage = trained_copy(workspace, tmp_path / "garbage")
    (garbage / "metrics.json").write_text("[1, 2]")
    result = run(workspace, "base", garbage, "--schedule", "evaluate", check=True)
    assert warnings(result) == [f"{garbage / 'metrics.json'} is not a JSON object: it is written anew"]  # fmt: skip
    assert report(garbage)["global_step"] == 40


def test_argument_ranges_are_checked_before_anything_runs(
    workspace: Path, tmp_path: Path
) -> None:
    for args, message in [
        (["--seed", "-1"], "argument --seed: '-1' is not a whole number from 0 to 4294967295"),
        (["--seed", str(2**40)], f"argument --seed: '{2**40}' is not a whole number from 0 to 4294967295"),
        (["--eval-steps", "-1"], "argument --eval-steps: '-1' is not a whole number of at least 0"),
        (["--train-steps", "0"], "argument --train-steps: '0' is not a whole number of at least 1"),
    ]:  # fmt: skip
        result = run(workspace, "base", tmp_path / "never", *args)
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1] == f"base.py: error: {message}"
    assert not (tmp_path / "never").exists()


def test_empty_training_data_is_an_error(workspace: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    shutil.copytree(workspace / "generated_examples", empty / "generated_examples")
    shutil.copytree(workspace / "data", empty / "data")
    (empty / "data" / "digits" / "digits_train.tfrecord").write_bytes(b"")
    error = one_error(run(empty, "base", empty / "model"))
    assert error == (
        f"train.data_pipeline: no examples in {empty / 'data' / 'digits' / 'digits_train.tfrecord'}"
    )
    assert not (empty / "model" / "metrics.json").exists()


@needs_root
def test_a_read_only_model_dir_is_one_line(workspace: Path, tmp_path: Path) -> None:
    source = trained_copy(workspace, tmp_path / "source")
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    subprocess.run(["mount", "--bind", source, read_only], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", read_only], check=True)
        training = one_error(run(workspace, "base", read_only, "--train-steps", "60"))
        assert training == f"{read_only / 'lock'}: Read-only file system"
        evaluating = one_error(
            run(workspace, "base", read_only, "--schedule", "evaluate")
        )
        assert (
            evaluating
            == f"cannot write {read_only / 'config.json'}: Read-only file system"
        )
    finally:
        subprocess.run(["umount", read_only], check=True)


@needs_root
def test_a_full_disk_stops_with_one_line_and_keeps_the_last_checkpoint(
    workspace: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk], check=True)
    try:
        model_dir = trained_copy(workspace, disk / "model")
        shutil.rmtree(model_dir / "train")  # room for the filler's 100 kB margin
        free = shutil.disk_usage(disk).free
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (free - 100_000))
        error = one_error(run(workspace, "base", model_dir, "--train-steps", "60", "--schedule", "train"))  # fmt: skip
        prefix = f"cannot save checkpoint 60 in {model_dir / 'checkpoints'}: "
        assert error.startswith(prefix) and error.endswith(
            f"No space left on device (the newest checkpoint is still {model_dir / 'checkpoints' / 'ckpt-40'})"
        )
        filler.unlink()
        run(workspace, "base", model_dir, "--train-steps", "60", "--schedule", "train", check=True)  # fmt: skip
        assert report(model_dir)["resumed_from"] == 40
        assert not list(
            model_dir.glob("checkpoints/*_temp")
        )  # the killed save's folder
        assert_ends_as_the_uninterrupted_run(workspace, model_dir)
    finally:
        subprocess.run(["umount", disk], check=True)


# ---- What metrics.json's train section covers ----


def test_a_resumed_run_reports_the_train_figures_of_an_uninterrupted_one(
    workspace: Path, tmp_path: Path
) -> None:
    whole = tmp_path / "whole"
    run(
        workspace,
        "halves",
        whole,
        "--train-steps",
        "40",
        "--schedule",
        "train",
        check=True,
    )
    # Stopped at 30, inside the summary window 21..40, and resumed.
    resumed = tmp_path / "resumed"
    run(
        workspace,
        "halves",
        resumed,
        "--train-steps",
        "30",
        "--schedule",
        "train",
        check=True,
    )
    run(
        workspace,
        "halves",
        resumed,
        "--train-steps",
        "40",
        "--schedule",
        "train",
        check=True,
    )
    assert report(resumed)["train"] == report(whole)["train"]
    # Killed after its last checkpoint, before metrics.json: the rerun reports the same.
    (resumed / "metrics.json").unlink()
    rerun = run(workspace, "halves", resumed, "--train-steps", "40", "--schedule", "train", check=True)  # fmt: skip
    assert "already trained to step 40" in rerun.stderr
    assert report(resumed)["train"] == report(whole)["train"]


# ---- Kills at each rename ----


def renames(command: list[str | Path], cwd: Path) -> list[str]:
    """The destinations of the renames that `command` makes, in order (a traced run)."""
    trace = cwd / "renames.txt"
    subprocess.run(
        [
            STRACE,
            "-f",
            "-qq",
            "-o",
            trace,
            "-e",
            "trace=rename,renameat,renameat2",
            *command,
        ],
        check=True,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    found = re.findall(
        r'rename(?:at2?)?\((?:\w+, )?"[^"]*", (?:\w+, )?"([^"]*)"', trace.read_text()
    )
    trace.unlink()
    return found


def killed_at(command: list[str | Path], cwd: Path, nth: int) -> int:
    """Run `command` under strace, which SIGKILLs it at its nth rename; the exit status."""
    inject = f"inject=rename,renameat,renameat2:signal=KILL:when={nth}"
    argv = [STRACE, "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename,renameat,renameat2", "-e", inject, *command]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(argv, capture_output=True, cwd=cwd, env=env).returncode


def assert_whole(model_dir: Path) -> None:
    """What a reader finds is whole: metrics.json, config.json, the checkpoint state."""
    for name in ("metrics.json", "config.json"):
        if (model_dir / name).exists():
            assert isinstance(json.loads((model_dir / name).read_text()), dict), name
    state = model_dir / "checkpoints" / "checkpoint"
    if state.exists():
        newest = re.search(r'^model_checkpoint_path: "(.*)"$', state.read_text(), re.M)
        assert newest and (model_dir / "checkpoints" / f"{newest[1]}.index").exists()


# Renames of a run from 40 to 60, each a kill point: config.json; ckpt-60's data
# and index into ckpt-60_temp, then its data into place; the checkpoint state,
# twice; metrics.json.
RENAMES = [
    "config.json",
    "part-00000-of-00001.data-00000-of-00001",
    "part-00000-of-00001.index",
    "ckpt-60.data-00000-of-00001",
    "checkpoint",
    "checkpoint",
    "metrics.json",
]
QUICK_KILLS = {4}


def resuming(workspace: Path, model_dir: Path) -> list[str | Path]:
    script = workspace / "generated_examples" / "base.py"
    return [sys.executable, script, "--model-dir", model_dir, "--train-steps", "60", "--schedule", "train"]  # fmt: skip


@pytest.mark.slow
@needs_strace
def test_the_kill_points_are_the_renames_of_a_resumed_run(
    workspace: Path, tmp_path: Path
) -> None:
    model_dir = trained_copy(workspace, tmp_path / "traced")
    points = renames(resuming(workspace, model_dir), tmp_path)
    assert [Path(p).name for p in points] == RENAMES


@needs_strace
@pytest.mark.parametrize(
    "nth",
    [
        pytest.param(
            n, marks=[] if n in QUICK_KILLS else [pytest.mark.slow], id=f"{n}-{name}"
        )
        for n, name in enumerate(RENAMES, 1)
    ],
)
def test_a_training_run_killed_at_a_rename_resumes_to_the_uninterrupted_run(
    workspace: Path, tmp_path: Path, nth: int
) -> None:
    model_dir = trained_copy(workspace, tmp_path / "killed")
    command = resuming(workspace, model_dir)
    assert killed_at(command, tmp_path, nth) == -signal.SIGKILL
    assert_whole(model_dir)
    rerun = train(*command[1:], cwd=workspace)
    assert rerun.returncode == 0, rerun.stderr
    assert_whole(model_dir)
    assert report(model_dir)["global_step"] == 60
    assert_ends_as_the_uninterrupted_run(workspace, model_dir)
    assert not [
        p for p in model_dir.rglob("*") if re.search(r"\.(tmp|old)-\d+$|_temp$", p.name)
    ]


def contents(folder: Path, hashes: bool) -> object:
    """The files of an output set, with their sha256 (or just their names)."""
    listing = files(folder)
    return listing if hashes else sorted(listing)


@needs_strace
@pytest.mark.parametrize(
    ("schedule", "every"),
    [("predict", False), slow("predict", True), slow("export", True)],
)
def test_an_output_set_killed_at_each_rename_is_the_old_one_none_or_the_new_one(
    workspace: Path, tmp_path: Path, schedule: str, every: bool
) -> None:
    model_dir = trained_copy(workspace, tmp_path / "model")
    run(workspace, "base", model_dir, "--schedule", schedule, check=True)
    output = model_dir / ("predictions" if schedule == "predict" else "export/40")
    # Predictions of other weights replace these; an export of the same step
    # (whose files are not byte for byte the same) replaces this one.
    hashes = schedule == "predict"
    if schedule == "predict":
        run(workspace, "base", model_dir, "--train-steps", "60", "--schedule", "train", check=True)  # fmt: skip
    old = contents(output, hashes)
    script = workspace / "generated_examples" / "base.py"
    command = [sys.executable, script, "--model-dir", model_dir, "--schedule", schedule]
    points = [Path(p).name for p in renames(command, tmp_path)]
    new = contents(output, hashes)
    assert hashes is False or new != old
    name = output.name
    assert points[0] == "config.json" and points[-1] == "metrics.json"
    assert re.fullmatch(rf"{name}\.old-\d+", points[-3]) and points[-2] == name
    # Quick: the kill between the old set's rename and the new one's.
    for nth in range(1, len(points) + 1) if every else [len(points) - 1]:
        assert killed_at(command, tmp_path, nth) == -signal.SIGKILL
        assert_whole(model_dir)
        if output.exists():
            assert contents(output, hashes) in (old, new), points[nth - 1]
        rerun = train(*command[1:], cwd=workspace)
        assert rerun.returncode == 0, rerun.stderr
        assert contents(output, hashes) == new
    assert not [
        p for p in model_dir.rglob("*") if re.search(r"\.(tmp|old)-\d+$", p.name)
    ]


# ---- SIGTERM outside the training loop ----


@needs_strace
@pytest.mark.parametrize("schedule", [slow("evaluate"), "predict", slow("export")])
def test_sigterm_stops_evaluate_predict_and_export_and_writes_nothing_half(
    workspace: Path, tmp_path: Path, schedule: str
) -> None:
    model_dir = trained_copy(workspace, tmp_path / "model")
    before = files(model_dir)
    eval_file = workspace / "data" / "digits" / "digits_eval.tfrecord"
    # SIGTERM as the eval data is opened (export: as the SavedModel's first file is).
    path = eval_file if schedule != "export" else model_dir / "export"
    syscalls = "openat" if schedule != "export" else "mkdir,mkdirat"
    script = workspace / "generated_examples" / "one_by_one.py"
    argv = [STRACE, "-f", "-qq", "-o", "/dev/null", "-P", path, "-e", f"trace={syscalls}", "-e", f"inject={syscalls}:signal=TERM:when=1", sys.executable, script, "--model-dir", model_dir, "--schedule", schedule]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        argv, capture_output=True, text=True, cwd=workspace, env=env
    )
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert result.stderr.splitlines()[-1] == "one_by_one.py: stopped by SIGTERM at step 40; run again to resume"  # fmt: skip
    after = files(model_dir)
    assert {k: v for k, v in after.items() if k in before and k != "config.json"} == {
        k: v for k, v in before.items() if k != "config.json"
    }
    assert not [k for k in after if k not in before]
