"""Reinforcement-learning experiments: compiled scripts really act, learn, resume and evaluate.

Scripts are compiled from the examples (with `--set` variants) into a
temporary folder and run from an unrelated working directory. The fast tests
train for a few thousand environment steps on CPU; the full runs are marked
slow (`pytest -m slow`).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from plxgen.compiler import compile_config, lower_document
from plxgen.compiler.load import load_text
from plxgen.compiler.rl_ir import RLExperiment
from tests.conftest import ROOT, train

EXAMPLES = ROOT / "generated_examples"
RL_EXAMPLES = ("dqn_cartpole", "trpo_cartpole", "naf_pendulum")
UNSEEDED = "environment.run_config.tf_random_seed=null"


def compile_to(tmp: Path, example: str, name: str, *sets: str) -> Path:
    """Compile an example (with overrides) to tmp/NAME.py."""
    script = tmp / f"{name}.py"
    script.write_text(compile_config(EXAMPLES / f"{example}.yaml", script, list(sets)))
    return script


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run SCRIPT from an unrelated working directory beside it."""
    elsewhere = script.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return train(script, *args, cwd=elsewhere)


def metrics(model_dir: Path) -> dict:
    return json.loads((model_dir / "metrics.json").read_text())


def lowered(example: str, *replacements: tuple[str, str]) -> RLExperiment:
    text = (EXAMPLES / f"{example}.yaml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    experiment = lower_document(load_text(text, "c.yaml"), "c.yaml", "")
    assert isinstance(experiment, RLExperiment)
    return experiment


# ----------------------------------------------------------------- lowering


def test_the_issue_file_lowers_to_the_zoo_settings() -> None:
    exp = lowered("dqn_cartpole")
    a = exp.agent
    assert (a.kind, a.dueling, a.discount, a.target_update_frequency) == (
        "dqn",
        None,
        0.99,
        10,
    )
    assert a.loss is not None and a.loss.call.func.qualname == "keras.losses.Huber"
    assert (
        dict(a.loss.call.kwargs)["delta"] == 1.0
    )  # not 2017's clip 0.0 (plain squared error)
    assert dict(a.optimizer.call.kwargs)["global_clipnorm"] == 10
    e = a.exploration
    assert e is not None and e.kind == "epsilon" and e.decay is not None
    # polynomial_decay runs linearly from 1.0 to min_exploration_rate over decay_steps.
    assert (e.decay.rate, e.decay.end, e.decay.floor, e.decay.decay_steps) == (
        1.0,
        0.04,
        0.04,
        8000,
    )
    assert (exp.memory.kind, exp.memory.size, exp.memory.batch_size) == (
        "replay",
        100000,
        64,
    )
    assert (exp.first_update, exp.update_frequency, exp.gradient_steps) == (
        1000,
        256,
        128,
    )
    assert a.dense_stack is not None and [d.activation for d in a.dense_stack] == [
        "relu",
        "relu",
    ]


def test_a_torso_that_is_not_a_dense_stack_acts_through_a_compiled_call() -> None:
    exp = lowered(
        "dqn_cartpole",
        ("- Dense: {units: 256, activation: relu}\n", "- LayerNormalization:\n"),
    )
    assert exp.agent.dense_stack is None


def test_2017_defaults_fill_what_the_file_leaves_out() -> None:
    exp = lowered(
        "dqn_cartpole",
        ("    discount: 0.99\n", ""),
        ("    dueling: false           # false | mean | max\n", ""),
        ("    exploration:\n      Decay: {exploration_rate: 1.0, min_exploration_rate: 0.04, decay_steps: 8000, decay_type: polynomial_decay}\n", ""),
    )  # fmt: skip
    a = exp.agent
    assert a.discount == 0.97 and a.dueling == "mean"
    assert a.exploration is not None and a.exploration.decay is not None
    assert (
        a.exploration.decay.rate,
        a.exploration.decay.end,
        a.exploration.decay.decay_steps,
    ) == (0.15, 0.0001, 100000)


# ------------------------------------------------------------ running scripts


@pytest.mark.parametrize("example", RL_EXAMPLES)
def test_example_runs_a_short_version(tmp_path: Path, example: str) -> None:
    """Every RL example, cut short: trains, checkpoints, summarizes and evaluates."""
    steps = {"dqn_cartpole": "1600", "trpo_cartpole": "1500", "naf_pendulum": "1200"}[
        example
    ]
    script = tmp_path / f"{example}.py"
    script.write_text((EXAMPLES / f"{example}.py").read_text())
    model_dir = tmp_path / "run"
    result = run(
        script,
        "--model-dir",
        str(model_dir),
        "--train-steps",
        steps,
        "--eval-episodes",
        "2",
    )
    assert result.returncode == 0, result.stderr
    report = metrics(model_dir)
    assert report["global_step"] == int(steps) and report["resumed_from"] == 0
    assert report["episodes"] > 0
    assert report["eval"]["episodes"] == 2 and isinstance(
        report["eval"]["mean_return"], float
    )
    assert (model_dir / "checkpoints" / f"ckpt-{steps}.index").exists()
    assert (model_dir / "checkpoints" / f"ckpt-{steps}.npz").exists()
    tf = pytest.importorskip("tensorflow")
    tags: dict[str, list[int]] = {}
    for events in (model_dir / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    assert {"episode_return", "episode_length"} <= set(tags)
    if example != "trpo_cartpole":
        assert {"loss", "exploration_rate"} <= set(tags)
    else:
        assert {"value_loss", "kl"} <= set(tags)
    assert list((model_dir / "eval").glob("events.out.tfevents.*"))


def test_dqn_beats_a_random_policy_after_4000_steps(tmp_path: Path) -> None:
    """A random CartPole policy scores about 22; a few thousand steps of DQN do much better."""
    script = compile_to(tmp_path, "dqn_cartpole", "dqn", "train.train_steps=4000")
    model_dir = tmp_path / "run"
    result = run(script, "--model-dir", str(model_dir), "--seed", "3")
    assert result.returncode == 0, result.stderr
    report = metrics(model_dir)
    assert report["global_step"] == 4000
    assert report["eval"]["episodes"] == 20
    assert report["eval"]["mean_return"] > 60, report


def test_resume_continues_counters_memory_and_exploration(tmp_path: Path) -> None:
    """An unseeded run: its drawn seed is kept with the checkpoint and resumed with it."""
    script = compile_to(tmp_path, "dqn_cartpole", "dqn", UNSEEDED)
    model_dir = tmp_path / "run"
    steps = ["--model-dir", str(model_dir), "--schedule", "train", "--train-steps"]
    first = run(script, *steps, "1500")
    assert first.returncode == 0, first.stderr
    before = metrics(model_dir)
    assert (before["global_step"], before["resumed_from"]) == (1500, 0)
    seed = before["seed"]
    assert f"seed {seed}, drawn for this run (--seed {seed} repeats it)" in first.stderr
    second = run(script, *steps, "2600")
    assert second.returncode == 0, second.stderr
    after = metrics(model_dir)
    assert (after["resumed_from"], after["global_step"], after["seed"]) == (1500, 2600, seed)
    assert "drawn" not in second.stderr
    assert after["episodes"] > before["episodes"]
    assert "restored" in second.stderr
    np = pytest.importorskip("numpy")
    with np.load(model_dir / "checkpoints" / "ckpt-2600.npz") as saved:
        # The memory came back: it holds the transitions of both runs.
        assert (
            int(saved["memory_count"]) == 2600 and len(saved["memory_rewards"]) == 2600
        )
        assert int(saved["seed"]) == seed
    # Training went on at once (the memory already held first_update transitions):
    # the summary at step 2000 reports the loss of the updates at steps 1536 and 1792.
    assert re.search(r"step 2000/2600: .* loss [0-9]", second.stderr), second.stderr
    other = seed + 1
    done = run(script, *steps, "2600", "--seed", str(other))
    assert done.returncode == 0 and "already trained to step 2600" in done.stderr
    ignored = f"--seed {other} ignored: {model_dir / 'checkpoints' / 'ckpt-2600'} goes on with seed {seed}"
    assert ignored in done.stderr


@pytest.mark.slow
def test_an_unseeded_run_resumed_is_the_run_of_its_seed_resumed_alike(tmp_path: Path) -> None:
    """Weight for weight, memory and random state alike: the drawn seed is the run's seed.

    (A resumed RL run starts a new episode, so it is compared with the same
    interruption under --seed S, not with an uninterrupted run.)
    """
    script = compile_to(tmp_path, "dqn_cartpole", "dqn", UNSEEDED)
    np = pytest.importorskip("numpy")
    tf = pytest.importorskip("tensorflow")
    saved = {}
    seed: list[str] = []
    for name in ("drawn", "given"):
        model_dir = tmp_path / name
        for steps in ("1100", "1400"):
            args = ["--model-dir", str(model_dir), "--train-steps", steps, "--schedule", "train"]
            assert run(script, *args, *seed).returncode == 0
        seed = ["--seed", str(metrics(model_dir)["seed"])]
        checkpoint = model_dir / "checkpoints" / "ckpt-1400"
        reader = tf.train.load_checkpoint(str(checkpoint))
        with np.load(f"{checkpoint}.npz") as state:
            saved[name] = {
                **{key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()},
                **{key: state[key] for key in state.files},
            }
    drawn, given = saved["drawn"], saved["given"]
    assert drawn.keys() == given.keys() and "memory_rewards" in drawn
    for key in drawn:
        np.testing.assert_array_equal(drawn[key], given[key], err_msg=key)


def test_evaluate_needs_a_checkpoint(tmp_path: Path) -> None:
    script = compile_to(tmp_path, "dqn_cartpole", "dqn")
    result = run(
        script, "--model-dir", str(tmp_path / "none"), "--schedule", "evaluate"
    )
    assert result.returncode == 1
    assert "no checkpoint" in result.stderr and "Traceback" not in result.stderr


def test_a_checkpoint_of_another_agent_is_one_line(tmp_path: Path) -> None:
    model_dir = str(tmp_path / "run")
    dqn = compile_to(tmp_path, "dqn_cartpole", "dqn")
    trained = run(dqn, "--model-dir", model_dir, "--train-steps", "20", "--schedule", "train")
    assert trained.returncode == 0, trained.stderr[-2000:]
    naf = compile_to(tmp_path, "naf_pendulum", "naf")
    result = run(naf, "--model-dir", model_dir, "--train-steps", "40")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ckpt-20 was written by another agent" in result.stderr
    assert "(train this one in another --model-dir)" in result.stderr


@pytest.mark.parametrize(
    ("env_id", "message"),
    [
        ("CartPole-v9", "cannot make 'CartPole-v9'"),
        ("Pendulum-v1", "needs discrete actions"),
    ],
)
def test_an_unusable_environment_is_one_line(
    tmp_path: Path, env_id: str, message: str
) -> None:
    script = compile_to(
        tmp_path, "dqn_cartpole", "dqn", f"train.env.Gym.env_id={env_id}"
    )
    result = run(script, "--model-dir", str(tmp_path / "run"), "--train-steps", "10")
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


VARIANTS = {
    # double DQN, dueling max, noisy-argmax exploration, a torso acting through tf.function
    "ddqn_dueling_max": ("dqn_cartpole", [
        "model={ddqn: {graph: {input_layers: state, layers: [{Dense: {units: 32, activation: tanh}}, LayerNormalization]}, "
        "dueling: max, exploration: {RandomDecay: {exploration_rate: 1.0, decay_steps: 1000}}}}",
        "train.first_update=200", "train.update_frequency=4", "train.gradient_steps=1",
    ]),
    "dqn_dueling_mean_constant": ("dqn_cartpole", [
        "model.dqn.dueling=mean", "model.dqn.exploration={Constant: {value: 0.1}}", "train.first_update=200",
        "train.update_frequency=50", "train.gradient_steps=8", "model.dqn.optimizer={RMSProp: {learning_rate: 0.001}}",
    ]),
    # VPG with Gaussian actions on Pendulum
    "vpg_pendulum": ("trpo_cartpole", [
        "model={vpg: {graph: {input_layers: state, layers: [{Dense: {units: 32, activation: tanh}}]}, entropy_coefficient: 0.01}}",
        "train.env.Gym.env_id=Pendulum-v1", "train.memory.BatchMemory.batch_size=400",
    ]),
    # TRPO on Pendulum, NAF with Gaussian decaying noise on a shorter episode limit
    "trpo_pendulum": ("trpo_cartpole", ["train.env.Gym.env_id=Pendulum-v1", "train.memory.BatchMemory.batch_size=400"]),
    "naf_decay": ("naf_pendulum", [
        "model.naf.exploration={Decay: {exploration_rate: 0.5, decay_steps: 1000}}", "train.first_update=200",
        "train.update_frequency=10", "train.gradient_steps=10", "train.env.Gym.max_episode_steps=100",
        "model.naf.loss=HuberLoss", "model.naf.target_update_frequency=10", "model.naf.target_update_tau=1.0",
    ]),
}  # fmt: skip


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_agent_variants_run(tmp_path: Path, variant: str) -> None:
    example, sets = VARIANTS[variant]
    script = compile_to(tmp_path, example, variant, *sets)
    model_dir = tmp_path / "run"
    result = run(
        script,
        "--model-dir",
        str(model_dir),
        "--train-steps",
        "1000",
        "--eval-episodes",
        "2",
        "--seed",
        "0",
    )
    assert result.returncode == 0, result.stderr
    report = metrics(model_dir)
    assert report["global_step"] == 1000 and report["episodes"] >= 1
    assert isinstance(report["eval"]["mean_return"], float)


def test_policy_gradient_summaries_follow_save_summary_steps(tmp_path: Path) -> None:
    """Updates every 400 steps, summaries every 1000: written at 1200 and the last, 2000."""
    script = compile_to(
        tmp_path, "trpo_cartpole", "trpo",
        "environment.run_config.save_summary_steps=1000",
        "train.memory.BatchMemory.batch_size=400",
    )  # fmt: skip
    result = run(script, "--model-dir", str(tmp_path / "run"), "--train-steps",
                 "2000", "--schedule", "train")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    logged = [line.split(": episodes")[0].rsplit(" ", 1)[1]
              for line in result.stderr.splitlines() if ": episodes " in line]  # fmt: skip
    assert logged == ["1200/2000", "2000/2000"]


# ------------------------------------------------------------- full runs


@pytest.mark.slow
@pytest.mark.parametrize("seed", [10, 11, 12])
def test_dqn_cartpole_solves_within_50000_steps(tmp_path: Path, seed: int) -> None:
    script = tmp_path / "dqn_cartpole.py"
    script.write_text((EXAMPLES / "dqn_cartpole.py").read_text())
    model_dir = tmp_path / "run"
    result = run(script, "--model-dir", str(model_dir), "--seed", str(seed))
    assert result.returncode == 0, result.stderr
    report = metrics(model_dir)
    assert report["global_step"] == 50000
    assert report["eval"]["mean_return"] >= 475, report


@pytest.mark.slow
def test_trpo_cartpole_solves_within_100000_steps(tmp_path: Path) -> None:
    script = tmp_path / "trpo_cartpole.py"
    script.write_text((EXAMPLES / "trpo_cartpole.py").read_text())
    model_dir = tmp_path / "run"
    result = run(script, "--model-dir", str(model_dir), "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert metrics(model_dir)["eval"]["mean_return"] >= 475


@pytest.mark.slow
def test_naf_pendulum_swings_up_within_20000_steps(tmp_path: Path) -> None:
    script = tmp_path / "naf_pendulum.py"
    script.write_text((EXAMPLES / "naf_pendulum.py").read_text())
    model_dir = tmp_path / "run"
    result = run(script, "--model-dir", str(model_dir), "--seed", "0")
    assert result.returncode == 0, result.stderr
    # A random policy scores about -1200; swinging up and balancing about -150.
    assert metrics(model_dir)["eval"]["mean_return"] >= -400
