"""The IR of reinforcement-learning experiments (frozen, checked values only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plxgen.compiler import ir


@dataclass(frozen=True)
class Exploration:
    """How training acts: epsilon-greedy, noisy values or actions, or OU noise."""

    name: str  # the config's name: Constant, Greedy, Random, Decay, RandomDecay, OrnsteinUhlenbeck
    kind: str  # epsilon | gaussian | ou
    rate: float  # a constant rate (epsilon or noise scale) when decay is None
    decay: ir.Decay | None  # decaying with the environment step
    ou: tuple[tuple[str, float], ...]  # sigma, mu, theta, dt


@dataclass(frozen=True)
class DenseLayer:
    """A Dense layer of a plain stack, for the numpy copy of the network used to act."""

    activation: str  # linear | relu | tanh | sigmoid | elu | softplus
    use_bias: bool


@dataclass(frozen=True)
class Agent:
    """The model section: the network's torso, its heads' algorithm and hyperparameters."""

    kind: str  # dqn | ddqn | naf | vpg | trpo
    name: str
    graph: ir.Graph
    dense_stack: (
        tuple[DenseLayer, ...] | None
    )  # the torso as plain Dense layers, if it is
    optimizer: ir.Optimizer | None  # None: trpo, which steps by the natural gradient
    loss: ir.Loss | None
    discount: float
    dueling: str | None  # mean | max | naive | None
    target_update_frequency: int | None  # Q models only
    target_update_tau: float | None
    exploration: Exploration | None
    params: tuple[tuple[str, Any], ...]  # algorithm-specific numbers (PG models)

    def param(self, key: str) -> Any:
        """One algorithm-specific number."""
        return dict(self.params)[key]


@dataclass(frozen=True)
class Env:
    """train.env: a Gymnasium environment."""

    env_id: str
    module: str | None  # imported first: it registers env_id
    max_episode_steps: int | None
    kwargs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Memory:
    """train.memory."""

    kind: str  # replay | batch
    size: int
    batch_size: int


@dataclass(frozen=True)
class RLExperiment:
    """A whole reinforcement-learning experiment, ready to render."""

    project: str
    description: str | None
    config_path: str
    logging: ir.Logging
    run_config: ir.RunConfig
    agent: Agent
    env: Env
    memory: Memory
    train_steps: int
    first_update: int
    update_frequency: int
    gradient_steps: int
    eval_episodes: int
    eval_every_steps: int | None
    keep_best: bool
    resolved_config: dict[str, Any]
    # A matrix script's combination (axis, value), logged to TensorBoard's HParams.
    hparams: tuple[tuple[str, Any], ...] = ()

    @property
    def hparams_group(self) -> str:
        """The summaries whose metrics TensorBoard's HParams compare: the eval episodes."""
        return "eval"

    @property
    def hparams_metrics(self) -> tuple[str, ...]:
        """The eval scalars an RL script writes (Agent.write_eval), for HParams."""
        return ("mean_return", "mean_length")

    @property
    def config_json(self) -> str:
        """The resolved config as one line of JSON: the script writes it to config.json."""
        return ir.config_json(self.resolved_config)

    @property
    def summary(self) -> str:
        """The script's docstring: what it trains, how to run it, where it writes."""
        outputs = (
            "Run it with --help for the options.\nCheckpoints, TensorBoard summaries and "
            "metrics.json go to --model-dir;\na rerun resumes from its newest checkpoint."
        )
        return ir.script_summary(self, f"{self.agent.kind} agent", None, outputs)
