"""The README's five-minute path, command by command, up to what TensorBoard reads.

The install line and `tensorboard` itself are not run (the test runs in the
installed environment); the training runs fewer steps. TensorBoard's own
event reader then finds the loss and accuracy curves the README promises.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT, plxgen, train


def quick_start() -> list[list[str]]:
    """The commands of the README's first shell block after its five-minute heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From install to TensorBoard in five minutes", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines()]


def test_the_quick_start_reaches_tensorboard(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("sklearn")
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    commands = quick_start()
    assert commands[0][:3] == ["python3", "-m", "venv"]
    assert commands[1][:2] == ["pip", "install"]
    assert commands[-1][:2] == ["tensorboard", "--logdir"]
    for command in commands[2:-1]:
        if command[0] == "plxgen":
            result = plxgen(*command[1:], cwd=tmp_path, timeout=600)
        else:
            assert command[0] == "python"
            result = train(*command[1:], "--train-steps", "20", cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr[-3000:])
        if command[:2] == ["plxgen", "explain"]:
            assert "Conv2D" in result.stdout and "parameters" in result.stdout
    logdir = tmp_path / commands[-1][2]
    training = EventAccumulator(str(logdir / "train"))
    training.Reload()
    evaluation = EventAccumulator(str(logdir / "eval"))
    evaluation.Reload()
    tags = set(training.Tags()["tensors"]) | set(training.Tags()["scalars"])
    assert {"loss", "accuracy", "learning_rate"} <= tags
    assert "accuracy" in set(evaluation.Tags()["tensors"]) | set(evaluation.Tags()["scalars"])  # fmt: skip
    first = (tmp_path / "mnist.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=experiment.schema.json"


def test_the_resume_promise_fits_in_the_starters_epochs() -> None:
    """`--train-steps N` resumes and reaches N: num_epochs does not end the run first."""
    import re

    import yaml

    from plxgen.commands.init import starter
    from plxgen.data.datasets import eval_count

    datasets = pytest.importorskip("sklearn.datasets")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    promise = re.search(
        r"Run it again with `--train-steps (\d+)` and it resumes from\s+step (\d+) and trains to step (\d+)",
        text,
    )
    assert promise is not None
    steps, resumed, reached = (int(g) for g in promise.groups())
    assert steps == reached
    config = yaml.safe_load(starter("mnist", "experiment.schema.json", "mnist.yaml"))
    assert config["train"]["train_steps"] == resumed
    pipeline = config["train"]["data_pipeline"]["TFRecordImagePipeline"]
    total = len(datasets.load_digits().target)
    examples = total - eval_count(total, 0.2)
    batches = -(-examples * pipeline["num_epochs"] // pipeline["batch_size"])
    assert batches >= steps
    assert f"about {batches // 10 * 10:,} steps" in " ".join(text.split())
