"""The typed intermediate representation that templates render.

Everything here is frozen and holds only checked values: names of Keras
symbols come from the registry, identifiers are validated, and every other
value is plain data that `literals.py` turns into a Python literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Symbol:
    """A dotted name (`keras.layers.Dense`) taken from the registry or the templates."""

    qualname: str


@dataclass(frozen=True)
class Call:
    """`symbol(*args, key=value, ...)`: a call with literal (or Symbol / Call) arguments."""

    func: Symbol
    kwargs: tuple[tuple[str, Any], ...] = ()
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Input:
    """A graph input fed by one pipeline feature."""

    feature: str
    var: str


@dataclass(frozen=True)
class Layer:
    """One layer call: `var = call(*inputs)`."""

    var: str
    call: Call
    inputs: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Graph:
    """A functional Keras graph."""

    inputs: tuple[Input, ...]
    layers: tuple[Layer, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class Bridge:
    """A generator's bridge between encoder and decoder (NoOpBridge or a VAE's LatentBridge)."""

    kind: str  # NoOpBridge | LatentBridge
    latent_dim: int
    mean: float
    stddev: float


@dataclass(frozen=True)
class Loss:
    """The loss: a Keras loss object (per example) or one of the script's own functions."""

    name: str
    call: Call
    weight: float


@dataclass(frozen=True)
class Metric:
    """A metric with the snake_case key it is reported under."""

    key: str
    call: Call
    helper: str | None  # a function or class the script must define for it


@dataclass(frozen=True)
class Decay:
    """The 2017 learning-rate decay (tf.train.<kind> between start and stop, floored)."""

    kind: str
    learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool
    start: int
    stop: float
    floor: float
    boundaries: tuple[int, ...]
    values: tuple[float, ...]
    end_learning_rate: float
    power: float


@dataclass(frozen=True)
class Optimizer:
    """The optimizer call (learning_rate excluded) and its learning rate or decay."""

    name: str
    call: Call
    learning_rate: float
    decay: Decay | None
    clipnorm: float


@dataclass(frozen=True)
class Model:
    """The model: graph, loss, optimizer, metrics and how labels are shaped."""

    kind: str  # classifier | regressor | generator
    name: str
    graph: Graph
    loss: Loss
    optimizer: Optimizer
    metrics: tuple[Metric, ...]
    labels: str  # one_hot | sparse | binary | float
    n_classes: int | None
    scores: (
        str | None
    )  # softmax | sigmoid | None: how outputs become scores for metrics
    # A generator's bridge; its target is then its input feature, not the labels.
    bridge: Bridge | None = None
    target: str | None = None  # the feature a generator reconstructs
    summaries: tuple[str, ...] = ()  # besides loss, metrics and learning_rate
    clip_embed: float = 0.0  # clip_embed_gradients, when the graph has embeddings


@dataclass(frozen=True)
class Op:
    """One feature-processor operation applied to a batch of one feature.

    `kind` is the processor's config name (`Resize`, `Flip`, ...); `args` are its
    arguments with defaults filled in; `index` numbers it within its processor,
    which keys its random numbers.
    """

    kind: str
    args: tuple[tuple[str, Any], ...]
    source: str
    index: int = 0
    random: bool = False


@dataclass(frozen=True)
class Processor:
    """The operations applied to one feature inside the pipeline."""

    feature: str
    func: str
    ops: tuple[Op, ...]

    @property
    def random(self) -> bool:
        """Whether any operation draws random numbers (it then takes a seed)."""
        return any(op.random for op in self.ops)


@dataclass(frozen=True)
class Pipeline:
    """A data pipeline: `kind` is its config name; `options` its kind-specific fields."""

    section: str  # train | eval
    data_files: tuple[str, ...]
    meta_data_file: str | None
    batch_size: int
    num_epochs: int
    shuffle: bool
    shuffle_buffer: int
    drop_remainder: bool
    num_threads: int
    processors: tuple[Processor, ...]
    kind: str = "TFRecordImagePipeline"
    cache: bool = False
    dynamic_pad: bool = False
    bucket_boundaries: tuple[int, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def random(self) -> bool:
        """Whether a processor of this pipeline draws random numbers."""
        return any(p.random for p in self.processors)


@dataclass(frozen=True)
class Session:
    """Session options, applied through tf.config."""

    intra_op_threads: int | None
    inter_op_threads: int | None
    soft_placement: bool
    log_device_placement: bool
    memory_growth: bool
    # per_process_gpu_memory_fraction: a logical GPU with that share of the memory
    memory_fraction: float | None = None
    visible_gpus: tuple[int, ...] | None = None  # gpu_options.visible_device_list


@dataclass(frozen=True)
class RunConfig:
    """Seeds, summary and checkpoint cadence."""

    seed: int | None
    save_summary_steps: int
    save_checkpoints_steps: int | None
    save_checkpoints_secs: int | None
    keep_checkpoint_max: int
    keep_checkpoint_every_n_hours: float | None
    session: Session


@dataclass(frozen=True)
class TaskSession:
    """The session of the tasks of one type (index None: the type's default)."""

    task_type: str  # worker | ps
    index: int | None
    session: Session


@dataclass(frozen=True)
class Environment:
    """Where the experiment runs: strategy, cluster, tasks, precision, resources."""

    # one_device | mirrored | multi_worker_mirrored | parameter_server
    strategy: str = "one_device"
    replicas: int | None = None  # mirrored: local devices (GPUs, else logical CPUs)
    # run_config.cluster as TensorFlow names the jobs (chief, worker, ps), if given
    cluster: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    n_workers: int = 0  # workers besides the chief
    n_ps: int = 0
    delay_workers: bool = False
    task_sessions: tuple[TaskSession, ...] = ()
    mixed_precision: str | None = None  # mixed_float16 | mixed_bfloat16
    steps_per_execution: int = 100  # training steps per call of the compiled loop, at most
    jit_compile: bool = False  # the step functions compiled by XLA
    # (who, resource, requests or limits, amount), for the docstring
    resources: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def distributed(self) -> bool:
        """True when the script takes part in a cluster of processes."""
        return self.strategy in ("multi_worker_mirrored", "parameter_server")


@dataclass(frozen=True)
class Logging:
    """settings.logging."""

    level: str
    formatter: str | None
    path: str | None


@dataclass(frozen=True)
class Experiment:
    """A whole supervised experiment, ready to render."""

    project: str
    description: str | None
    config_path: str
    logging: Logging
    run_config: RunConfig
    model: Model
    train: Pipeline
    train_steps: int | None
    eval: Pipeline | None
    eval_steps: int | None
    eval_delay_secs: int
    eval_throttle_secs: int
    resolved_config: dict[str, Any]
    environment: Environment = Environment()
