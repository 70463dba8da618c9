"""The generated scripts really train: every example, on real digits, on the CPU.

Each script is copied next to a data folder made by `plxgen data` (a
different program from the script) and run from an unrelated working
directory, as a user would; `python SCRIPT` itself is run by the tests of
faults, signals and the command line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, plxgen, train, train_here
from tests.pipeline_data import make_pipeline_data

# Supervised examples (RL ones train an agent in an environment: tests/scripts/test_rl.py).
EXAMPLES = sorted(
    p.stem
    for p in (ROOT / "generated_examples").glob("*.yaml")
    if "data_pipeline" in p.read_text()
)
SEED_METRICS = {
    "true_positives", "true_negatives", "false_positives", "false_negatives",
    "recall", "auc", "accuracy", "precision",
}  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the repository: generated_examples/ beside data/."""
    root = tmp_path_factory.mktemp("workspace")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    plxgen(
        "data", "digits", "--name", "mnist", "-o", root / "data" / "mnist", check=True
    )
    make_pipeline_data(root / "data")
    (root / "generated_examples").mkdir()
    for name in EXAMPLES:
        shutil.copy(
            ROOT / "generated_examples" / f"{name}.py", root / "generated_examples"
        )
    (root / "elsewhere").mkdir()
    return root


def run_script(
    workspace: Path, name: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run generated_examples/NAME.py from an unrelated working directory.

    Its `main` runs in this process (one TensorFlow import for the module's
    runs); lenet_cluster's in one of its own, as a multi-worker strategy is its
    process's for good.
    """
    script = workspace / "generated_examples" / f"{name}.py"
    run = train if name == "lenet_cluster" else train_here
    return run(script, *args, cwd=workspace / "elsewhere")


def metrics(model_dir: Path) -> dict:
    return json.loads((model_dir / "metrics.json").read_text())


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_trains_a_few_steps(workspace: Path, name: str) -> None:
    model_dir = workspace / "runs" / name
    result = run_script(
        workspace,
        name,
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "5",
        "--eval-steps",
        "2",
    )
    assert result.returncode == 0, result.stderr
    report = metrics(model_dir)
    assert report["global_step"] == 5
    assert report["resumed_from"] == 0
    assert report["train"]["loss"] > 0
    assert report["eval"]["loss"] > 0
    assert (model_dir / "checkpoints" / "checkpoint").exists()
    assert list((model_dir / "train").glob("events.out.tfevents.*"))
    assert list((model_dir / "eval").glob("events.out.tfevents.*"))
    assert json.loads((model_dir / "config.json").read_text())["version"] == 1
    if name == "lenet":
        assert set(report["eval"]) == SEED_METRICS | {"loss"}


def test_seed_lenet_stops_when_its_single_epoch_runs_out(workspace: Path) -> None:
    """num_epochs: 1 over 1,438 examples in batches of 64 is 23 steps, before train_steps (100)."""
    model_dir = workspace / "runs" / "lenet-epoch"
    result = run_script(
        workspace, "lenet", "--model-dir", str(model_dir), "--eval-steps", "1"
    )
    assert result.returncode == 0, result.stderr
    assert metrics(model_dir)["global_step"] == 23


def test_without_train_steps_num_epochs_alone_ends_the_run(workspace: Path) -> None:
    """The seed's lenet without train_steps: its one epoch (23 steps), resumed too."""
    config = workspace / "generated_examples" / "lenet_epochs.yaml"
    shutil.copy(ROOT / "generated_examples" / "lenet.yaml", config)
    plxgen(
        "compile", config, "-o", config.with_suffix(".py"),
        "--set", "train.train_steps=null", check=True,
    )  # fmt: skip
    model_dir = workspace / "runs" / "lenet-epochs"
    first = run_script(workspace, "lenet_epochs", "--model-dir", str(model_dir),
                       "--train-steps", "10", "--schedule", "train")  # fmt: skip
    assert first.returncode == 0, first.stderr
    rest = run_script(workspace, "lenet_epochs", "--model-dir", str(model_dir),
                      "--schedule", "train")  # fmt: skip
    assert rest.returncode == 0, rest.stderr
    assert "step 23/?:" in rest.stderr
    assert "the training data ran out (num_epochs) at step 23" in rest.stderr
    assert (metrics(model_dir)["resumed_from"], metrics(model_dir)["global_step"]) == (
        10,
        23,
    )


def test_resume_counts_steps_over_the_whole_run(workspace: Path) -> None:
    model_dir = workspace / "runs" / "resume"
    first = run_script(
        workspace,
        "lenet_digits",
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "3",
        "--schedule",
        "train",
    )
    assert first.returncode == 0, first.stderr
    second = run_script(
        workspace,
        "lenet_digits",
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "7",
        "--schedule",
        "train",
    )
    assert second.returncode == 0, second.stderr
    report = metrics(model_dir)
    assert (report["resumed_from"], report["global_step"]) == (3, 7)
    assert sorted(p.name for p in (model_dir / "checkpoints").glob("*.index")) == [
        "ckpt-3.index",
        "ckpt-7.index",
    ]


def test_seeded_runs_repeat_exactly(workspace: Path) -> None:
    reports = []
    for i in range(2):
        model_dir = workspace / "runs" / f"repeat{i}"
        result = run_script(
            workspace,
            "digits_regressor",
            "--model-dir",
            str(model_dir),
            "--train-steps",
            "20",
        )
        assert result.returncode == 0, result.stderr
        reports.append(metrics(model_dir))
    assert reports[0]["train"] == reports[1]["train"]
    assert reports[0]["eval"] == reports[1]["eval"]


def test_evaluate_predict_and_export_schedules(workspace: Path) -> None:
    tf = pytest.importorskip("tensorflow")
    model_dir = workspace / "runs" / "schedules"
    assert (
        run_script(
            workspace,
            "lenet_digits",
            "--model-dir",
            str(model_dir),
            "--train-steps",
            "4",
            "--schedule",
            "train",
        ).returncode
        == 0
    )

    evaluated = run_script(
        workspace,
        "lenet_digits",
        "--model-dir",
        str(model_dir),
        "--schedule",
        "evaluate",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    report = metrics(model_dir)
    assert (
        report["global_step"] == 4
        and "train" in report
        and "accuracy" in report["eval"]
    )

    predicted = run_script(
        workspace,
        "lenet_digits",
        "--model-dir",
        str(model_dir),
        "--schedule",
        "predict",
    )
    assert predicted.returncode == 0, predicted.stderr
    lines = (model_dir / "predictions" / "predictions.jsonl").read_text().splitlines()
    meta = json.loads((workspace / "data" / "digits" / "meta_data.json").read_text())
    assert len(lines) == meta["num_samples"]["eval"]
    first = json.loads(lines[0])
    assert 0 <= first["classes"] < 10 and len(first["scores"]) == 10
    assert first["class_name"] == meta["classes"][first["classes"]]

    exported = run_script(
        workspace, "lenet_digits", "--model-dir", str(model_dir), "--schedule", "export"
    )
    assert exported.returncode == 0, exported.stderr
    loaded = tf.saved_model.load(str(model_dir / "export" / "4"))
    outputs = loaded.signatures["serving_default"](
        image=tf.zeros([3, 28, 28, 1], tf.uint8)
    )
    assert outputs["scores"].shape == (3, 10) and outputs["classes"].shape == (3,)


def test_evaluate_without_a_checkpoint_is_one_line(workspace: Path) -> None:
    result = run_script(
        workspace,
        "lenet_digits",
        "--model-dir",
        str(workspace / "runs" / "none"),
        "--schedule",
        "evaluate",
    )
    assert result.returncode == 1
    assert "no checkpoint" in result.stderr and "Traceback" not in result.stderr


def test_missing_data_file_is_one_readable_line(
    workspace: Path, tmp_path: Path
) -> None:
    shutil.copytree(workspace / "generated_examples", tmp_path / "generated_examples")
    (tmp_path / "elsewhere").mkdir()
    result = run_script(tmp_path, "lenet_digits", "--model-dir", str(tmp_path / "run"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert (
        len(errors) == 1
        and "not found" in errors[0]
        and "digits_train.tfrecord" in errors[0]
    )


def test_corrupt_data_file_is_one_readable_line_naming_it(
    workspace: Path, tmp_path: Path
) -> None:
    shutil.copytree(workspace / "generated_examples", tmp_path / "generated_examples")
    shutil.copytree(workspace / "data", tmp_path / "data")
    (tmp_path / "elsewhere").mkdir()
    records = tmp_path / "data" / "digits" / "digits_train.tfrecord"
    data = bytearray(records.read_bytes())
    data[20_000] ^= 0xFF
    records.write_bytes(bytes(data))
    result = run_script(
        tmp_path,
        "lenet_digits",
        "--model-dir",
        str(tmp_path / "run"),
        "--train-steps",
        "40",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert (
        len(errors) == 1 and "corrupt" in errors[0] and str(records) in errors[0]
    ), result.stderr


def test_lenet_on_digits_reaches_97_percent_in_300_steps(workspace: Path) -> None:
    model_dir = workspace / "runs" / "accuracy"
    result = run_script(workspace, "lenet_digits", "--model-dir", str(model_dir))
    assert result.returncode == 0, result.stderr
    report = metrics(model_dir)
    assert report["global_step"] == 300
    assert report["eval"]["accuracy"] >= 0.97, report
    # TensorBoard: scalars every save_summary_steps (100), at the global step.
    tf = pytest.importorskip("tensorflow")
    steps: dict[str, list[int]] = {}
    for events in (model_dir / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    assert steps["loss"] == [100, 200, 300]
    assert steps["accuracy"] == steps["learning_rate"] == [100, 200, 300]


def test_jpeg_records_from_another_writer_train(
    workspace: Path, tmp_path: Path
) -> None:
    """TF-slim records written by TensorFlow itself, with JPEG images, as the 2017 converters did."""
    tf = pytest.importorskip("tensorflow")
    data = tmp_path / "data" / "digits"
    data.mkdir(parents=True)
    source = workspace / "data" / "digits"
    for split in ("train", "eval"):
        with tf.io.TFRecordWriter(str(data / f"digits_{split}.tfrecord")) as writer:
            for record in tf.data.TFRecordDataset(
                str(source / f"digits_{split}.tfrecord")
            ):
                example = tf.train.Example.FromString(record.numpy())
                feature = example.features.feature
                image = tf.io.decode_png(feature["image/encoded"].bytes_list.value[0])
                feature["image/encoded"].bytes_list.value[0] = tf.io.encode_jpeg(
                    image, quality=95
                ).numpy()
                feature["image/format"].bytes_list.value[0] = b"jpeg"
                writer.write(example.SerializeToString())
    meta = json.loads((source / "meta_data.json").read_text())
    meta["image_format"] = "jpeg"
    (data / "meta_data.json").write_text(json.dumps(meta))
    shutil.copytree(workspace / "generated_examples", tmp_path / "generated_examples")
    (tmp_path / "elsewhere").mkdir()
    result = run_script(
        tmp_path,
        "lenet_digits",
        "--model-dir",
        str(tmp_path / "run"),
        "--train-steps",
        "30",
    )
    assert result.returncode == 0, result.stderr
    report = metrics(tmp_path / "run")
    assert report["global_step"] == 30 and report["eval"]["accuracy"] > 0.5, report


def test_checkpoints_by_seconds(workspace: Path) -> None:
    """save_checkpoints_secs instead of _steps: timed saves, and always one at the end."""
    import yaml

    config = yaml.safe_load(
        (ROOT / "generated_examples" / "digits_regressor.yaml").read_text()
    )
    run_config = config["environment"]["run_config"]
    del run_config["save_checkpoints_steps"]
    run_config["save_checkpoints_secs"] = 1
    config["settings"] = {
        "logging": {
            "level": "INFO",
            "path": "../logs/secs/run.log",
            "formatter": "%(levelname)s: %(message)s",
        }
    }
    path = workspace / "generated_examples" / "regressor_secs.yaml"
    path.write_text(yaml.safe_dump(config))
    plxgen("compile", path, "-o", path.with_suffix(".py"), check=True)
    assert "SAVE_CHECKPOINTS_SECS = 1\n" in path.with_suffix(".py").read_text()
    model_dir = workspace / "runs" / "secs"
    # In a process of its own: settings.logging.path is the script's logging set-up.
    result = train(
        workspace / "generated_examples" / "regressor_secs.py",
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "60",
    )
    assert result.returncode == 0, result.stderr
    assert (model_dir / "checkpoints" / "ckpt-60.index").exists()
    # settings.logging.path is relative to the config; its folder is created.
    assert "INFO: step 60/60" in (workspace / "logs" / "secs" / "run.log").read_text()


def _compile_variant(workspace: Path, example: str, name: str, *sets: str) -> None:
    """generated_examples/NAME.py: EXAMPLE compiled with `--set` overrides."""
    config = workspace / "generated_examples" / f"{name}.yaml"
    shutil.copy(ROOT / "generated_examples" / f"{example}.yaml", config)
    overrides = [arg for item in sets for arg in ("--set", item)]
    plxgen("compile", config, "-o", config.with_suffix(".py"), *overrides, check=True)


def _reports(workspace: Path, names: tuple[str, ...], label: str) -> list[dict]:
    """metrics.json of a 25-step run of each script."""
    reports = []
    for name in names:
        model_dir = workspace / "runs" / f"{label}-{name}"
        result = run_script(
            workspace, name, "--model-dir", str(model_dir), "--train-steps", "25"
        )
        assert result.returncode == 0, result.stderr
        reports.append(metrics(model_dir))
    return reports


def test_steps_per_execution_changes_speed_not_results(workspace: Path) -> None:
    _compile_variant(
        workspace,
        "digits_regressor",
        "regressor_spe1",
        "environment.steps_per_execution=1",
    )
    script = (workspace / "generated_examples" / "regressor_spe1.py").read_text()
    assert "STEPS_PER_CALL = 1\n" in script
    one, default = _reports(workspace, ("regressor_spe1", "digits_regressor"), "spe")
    assert one["global_step"] == default["global_step"] == 25
    assert one["train"] == default["train"]
    assert one["eval"] == default["eval"]


def test_jit_compiled_steps_train_like_plain_ones(workspace: Path) -> None:
    _compile_variant(
        workspace, "digits_regressor", "regressor_jit", "environment.jit_compile=true"
    )
    script = (workspace / "generated_examples" / "regressor_jit.py").read_text()
    assert "@tf.function(jit_compile=True)" in script
    jit, plain = _reports(workspace, ("regressor_jit", "digits_regressor"), "jit")
    assert jit["global_step"] == 25
    for section in ("train", "eval"):
        for key, value in plain[section].items():
            assert jit[section][key] == pytest.approx(value, rel=1e-3), (section, key)
