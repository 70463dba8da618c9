"""The typed intermediate representation that templates render.

Everything here is frozen and holds only checked values: names of Keras
symbols come from the registry, identifiers are validated, and every other
value is plain data that `literals.py` turns into a Python literal. Where and
how the experiment runs (session, run config, cluster, logging) is in
`ir_environment.py`, re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from plxgen.compiler.ir_environment import (
    Environment as Environment,
    Logging as Logging,
    RunConfig as RunConfig,
    Session as Session,
    TaskSession as TaskSession,
)


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
    # The names each output is known by in the config (its `name`, or `Type_N`).
    output_names: tuple[tuple[str, ...], ...] = ()


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
    key: str = "loss"  # its name in metrics.json and TensorBoard (2017's `name`)
    # The index in the graph's outputs of the one output it compares (2017's
    # output_layer); None: every output, their losses added.
    output: int | None = None


@dataclass(frozen=True)
class Metric:
    """A metric with the snake_case key it is reported under."""

    key: str
    call: Call
    helper: str | None  # a function or class the script must define for it


@dataclass(frozen=True)
class Decay:
    """A rate decaying with the step as a 2017 tf.train decay function (templates/decay.py.j2).

    A learning rate decays with the training step, an exploration rate with the
    environment step; either decays only between start and stop (`window` says
    whether those bound it) and never below `floor`.
    """

    kind: str  # a name of registry.DECAYS
    rate: float  # the rate at step 0
    decay_steps: int
    decay_rate: float
    staircase: bool
    start: int
    stop: float
    window: bool
    floor: float
    end: float  # polynomial_decay: the rate after decay_steps
    power: float
    boundaries: tuple[int, ...] = ()  # piecewise_constant
    values: tuple[float, ...] = ()

    @property
    def formula(self) -> str:
        """The learning rate this decay computes, by the names of its config values."""
        progress = "floor(step / decay_steps)" if self.staircase else "step / decay_steps"
        formulas = {
            "exponential_decay": f"learning_rate * decay_rate ** ({progress})",
            "inverse_time_decay": f"learning_rate / (1 + decay_rate * {progress})",
            "natural_exp_decay": f"learning_rate * exp(-decay_rate * {progress})",
            "polynomial_decay": "(learning_rate - end_learning_rate)"
            " * (1 - min(step, decay_steps) / decay_steps) ** power + end_learning_rate",
            "piecewise_constant": "values[i] between boundaries[i - 1] and boundaries[i]",
        }
        return f"{formulas[self.kind]}, at least min_learning_rate"


@dataclass(frozen=True)
class Optimizer:
    """The optimizer call (learning_rate excluded) and its learning rate or decay.

    `schedule` is the Keras schedule that computes the decay exactly (None: the
    script's own LearningRateDecay computes it); `floor` is the min_learning_rate
    that Keras' schedule must be kept above (None where it cannot go below it).
    """

    name: str
    call: Call
    learning_rate: float
    decay: Decay | None
    clipnorm: float
    schedule: Call | None = None
    floor: float | None = None

    @property
    def own_class(self) -> str | None:
        """The script's own optimizer class it builds (templates/model.py.j2), if any."""
        qualname = self.call.func.qualname
        return None if "." in qualname else qualname

    @property
    def own_schedule(self) -> bool:
        """Whether the script defines the decay itself, formula and all."""
        return self.decay is not None and self.schedule is None


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

    @property
    def helpers(self) -> frozenset[str]:
        """The script's own functions and classes that the model's calls name."""
        used = {m.helper for m in self.metrics if m.helper}
        calls = [self.loss.call, *(m.call for m in self.metrics)]
        calls += [layer.call for layer in self.graph.layers]
        for call in calls:
            used.update(
                symbol.qualname
                for symbol in _symbols(call)
                if "." not in symbol.qualname
            )
        return frozenset(used)

    @property
    def class_labels(self) -> bool:
        """Whether its labels are class ids (one-hot, sparse or binary), not values."""
        return self.labels != "float"

    @property
    def regularized(self) -> bool:
        """Whether a layer adds a regularization loss to the model."""
        return any(
            _has_regularizer(layer.call)
            or layer.call.func.qualname
            in ("keras.layers.ActivityRegularization", "LatentBridge")
            for layer in self.graph.layers
        )


@dataclass(frozen=True)
class Op:
    """One feature-processor operation applied to a batch of one feature.

    `kind` is the processor's config name (`Resize`, `Flip`, ...); `args` are its
    arguments with defaults filled in; `index` numbers it within its processor,
    which keys its random numbers. `statements` are the lines it writes, as
    lowering renders them (values through `py`, names through `ident`);
    `helper` is the script's own function they call, if any.
    """

    kind: str
    args: tuple[tuple[str, Any], ...]
    source: str
    index: int = 0
    random: bool = False
    statements: tuple[str, ...] = ()
    helper: str | None = None


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

    @property
    def statements(self) -> tuple[str, ...]:
        """The lines of its operations, in order."""
        return tuple(s for op in self.ops for s in op.statements)

    @property
    def returned(self) -> str | None:
        """The expression the function returns, when its last line assigns it to the feature."""
        assignment = f"{self.feature} = "
        last = self.statements[-1] if self.statements else ""
        return last[len(assignment) :] if last.startswith(assignment) else None


@dataclass(frozen=True)
class Pipeline:
    """A data pipeline: `kind` is its config name, and what its kind means for the script.

    `reader` is the script's function that reads it, taking `options` (its
    keyword arguments, in order) and reading the module-level `constants`
    (each written by the macro of templates/data.py.j2 of that name).
    `features` are the features it gives the model (None: named by the data at
    run time). `records`: it reads TFRecord files; `lines`: text files line
    by line; `ids`: token ids padded per
    batch, the label a target's first id; `source`: a source sequence whose
    ids may be text; `images`: it holds images. `modules` are the
    standard-library modules its reader imports, `numpy` whether it uses
    numpy; `cache` is only set where caching applies. `pairs`: its records
    are tuples, whose parts its parse function takes. `meta_shapes`: its meta
    data alone gives the features' shapes (read with no files, as export does).
    """

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
    reader: str
    features: tuple[str, ...] | None
    kind: str = "TFRecordImagePipeline"
    cache: bool = False
    dynamic_pad: bool = False
    bucket_boundaries: tuple[int, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    constants: tuple[str, ...] = ()
    records: bool = False
    lines: bool = False
    ids: bool = False
    source: bool = False
    images: bool = False
    modules: tuple[str, ...] = ()
    numpy: bool = False
    pairs: bool = False
    meta_shapes: bool = False
    # The min_after_dequeue that sized the shuffle buffer; None when capacity did.
    min_after_dequeue: int | None = None

    @property
    def prefix(self) -> str:
        """The prefix of this pipeline's constants in the script: TRAIN or EVAL."""
        return self.section.upper()

    @property
    def shuffle_buffer_origin(self) -> str:
        """Where the shuffle buffer's size comes from, for a comment."""
        if self.min_after_dequeue is None:
            return "capacity"
        # 2017's reader shuffled through a queue of 256 records and ignored
        # min_after_dequeue: the buffer these keys describe is kept instead
        # (docs/compatibility.md).
        return (
            f"min_after_dequeue ({self.min_after_dequeue}) + 3 * batch_size records"
            " (2017 read through a 256-record queue)"
        )

    @property
    def random(self) -> bool:
        """Whether a processor of this pipeline draws random numbers."""
        return any(p.random for p in self.processors)

    @property
    def seeded(self) -> bool:
        """Whether its dataset takes the run's seed: it shuffles or processes at random."""
        return self.shuffle or self.random

    @property
    def helpers(self) -> frozenset[str]:
        """The script's own functions that its processors call."""
        return frozenset(
            op.helper for p in self.processors for op in p.ops if op.helper
        )

    @property
    def image_meta_data(self) -> bool:
        """Whether its meta_data.json gives the shape of its images (height, width, channels)."""
        return self.images and self.meta_data_file is not None

    @property
    def in_order(self) -> bool:
        """Whether one pass reads every example once, in file order."""
        return not self.shuffle and self.num_epochs == 1 and not self.drop_remainder

    @property
    def processors_by_feature(self) -> dict[str, Processor]:
        """The processor of each processed feature."""
        return {p.feature: p for p in self.processors}


@dataclass(frozen=True)
class Batching:
    """What the readers' shared batching does, for the train and eval pipelines together.

    Each flag is set where a pipeline needs it, so the readers take only the
    options that some pipeline of the script passes (templates/batching.py.j2).
    """

    shuffles: bool
    drops: bool
    caches: bool
    processes: bool  # some pipeline has feature processors
    always_processes: bool  # every pipeline has them: `process` is no option
    randoms: bool

    @classmethod
    def of(cls, pipes: tuple[Pipeline, ...]) -> Batching:
        processes = any(p.processors for p in pipes)
        return cls(
            shuffles=any(p.shuffle for p in pipes),
            drops=any(p.drop_remainder for p in pipes),
            caches=any(p.cache for p in pipes),
            processes=processes,
            always_processes=processes and all(p.processors for p in pipes),
            randoms=any(p.random for p in pipes),
        )


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
    eval_steps: int  # 0: the whole eval data
    eval_delay_secs: int
    eval_throttle_secs: int
    resolved_config: dict[str, Any]
    environment: Environment = Environment()
    # A matrix script's combination (axis, value), logged to TensorBoard's HParams.
    hparams: tuple[tuple[str, Any], ...] = ()

    @property
    def summary(self) -> str:
        """The script's docstring: what it trains, how to run it, where it writes."""
        outputs = (
            "Run it with --help for the options.\nCheckpoints, TensorBoard summaries, metrics.json "
            "and exports go to --model-dir;\na rerun resumes from its newest checkpoint."
        )
        return script_summary(self, self.model.kind, self.environment.text, outputs)

    @property
    def model_constants(self) -> tuple[tuple[str, Any, str | None], ...]:
        """The model's values that the script names: (name, value, comment)."""
        m = self.model
        replicated = self.environment.strategy in ("mirrored", "multi_worker_mirrored")
        found: list[tuple[str, Any, str | None]] = []
        if m.n_classes:
            found.append(("N_CLASSES", m.n_classes, None))
        if m.target:
            note = "The feature that the generator learns to reproduce."
            found.append(("TARGET_FEATURE", m.target, note))
        if m.loss.weight != 1.0:
            found.append(("LOSS_WEIGHT", m.loss.weight, None))
        if m.optimizer.clipnorm and (replicated or m.clip_embed):
            found.append(("CLIP_GRADIENTS", m.optimizer.clipnorm, None))
        return tuple(found)

    @property
    def scores_method(self) -> bool:
        """Whether the metrics see something else than the model's outputs (Trainer.scores)."""
        return bool(self.model.scores or self.environment.mixed_precision)

    @property
    def loss_method(self) -> bool:
        """Whether the loss of each example is more than one call of the loss (Trainer.per_example_loss)."""
        return bool(
            self.environment.mixed_precision
            or len(self.model.graph.outputs) > 1
            or self.model.loss.weight != 1.0
        )

    @property
    def config_json(self) -> str:
        """The resolved config as one line of JSON: the script writes it to config.json."""
        return config_json(self.resolved_config)

    @property
    def stdlib_imports(self) -> tuple[str, ...]:
        """The standard-library modules the script imports."""
        strategy = self.environment.strategy
        wanted = {
            "ctypes": self.uses_memory_fraction,
            "functools": self.model.loss.call.func.qualname == "functools.partial",
            "tempfile": strategy == "multi_worker_mirrored",
        }
        return tuple(
            sorted(
                {
                    *_ALWAYS_IMPORTED,
                    *self.train.modules,
                    *(m for m, on in wanted.items() if on),
                }
            )
        )

    @property
    def hparams_group(self) -> str:
        """The summaries (eval, else train) whose metrics TensorBoard's HParams compare."""
        return "eval" if self.eval else "train"

    @property
    def hparams_metrics(self) -> tuple[str, ...]:
        """HParams' metric names known when compiling: none, the trainer's metrics name them."""
        return ()

    @property
    def uses_numpy(self) -> bool:
        """Whether the script needs numpy (its pipeline's reader does)."""
        return self.train.numpy

    @property
    def batching(self) -> Batching:
        """What the readers' shared batching must do for this script's pipelines."""
        return Batching.of(tuple(p for p in (self.train, self.eval) if p is not None))

    @property
    def buckets(self) -> bool:
        """Whether a pipeline buckets examples by length (its reader takes bucket_boundaries)."""
        return any(p is not None and p.bucket_boundaries for p in (self.train, self.eval))

    @property
    def uses_memory_fraction(self) -> bool:
        """Whether a session limits the GPU memory to a fraction."""
        sessions = [self.run_config.session]
        sessions += [t.session for t in self.environment.task_sessions]
        return any(s.memory_fraction for s in sessions)

    @property
    def schedules(self) -> list[str]:
        """The values of --schedule."""
        if self.eval:
            return ["train", "evaluate", "train_and_evaluate", "predict", "export"]
        return ["train", "export"]

    def process_function(self, pipe: Pipeline) -> str:
        """`process_features` where train and eval process alike, else one per section."""
        funcs = [[p.func for p in q.processors] for q in (self.train, self.eval) if q]
        if len(funcs) == 2 and funcs[0] != funcs[1]:
            return f"process_{pipe.section}_features"
        return "process_features"

    @property
    def session_table(self) -> dict[str, Any]:
        """The SESSIONS table of a cluster: each task's session under the 2017 option names."""
        table = {"chief": self.run_config.session.options}
        for task in self.environment.task_sessions:
            key = (
                task.task_type
                if task.index is None
                else f"{task.task_type}:{task.index}"
            )
            table[key] = task.session.options
        return table


def config_json(config: dict[str, Any]) -> str:
    """A resolved config as one line of JSON, in the order of the experiment file."""
    return json.dumps(config, ensure_ascii=True)


def script_summary(
    exp: Experiment | Any, what: str, environment: str | None, outputs: str
) -> str:
    """A script's docstring text: the summary line, the description, the environment, the outputs."""
    # The first paragraph is also the script's --help description, which argparse
    # %-formats: so it holds no text from the user but the (checked) project name.
    parts = [f"Train {exp.project}: a {what} compiled by plxgen."]
    if exp.description:
        parts.append(exp.description.strip())
    if environment:
        parts.append(environment)
    parts.append(f"Compiled from {exp.config_path}. {outputs}")
    return "\n\n".join(parts) + "\n"


def _symbols(value: Any) -> list[Symbol]:
    """Every symbol a call names, its arguments' calls included."""
    if isinstance(value, Symbol):
        return [value]
    if isinstance(value, Call):
        found = _symbols(value.func)
        for item in (*value.args, *(v for _, v in value.kwargs)):
            found += _symbols(item)
        return found
    return []


def _has_regularizer(value: Any) -> bool:
    return isinstance(value, Call) and any(
        k.endswith("_regularizer") or _has_regularizer(v) for k, v in value.kwargs
    )


_ALWAYS_IMPORTED = (
    "argparse", "contextlib", "fcntl", "glob", "json", "logging", "math", "os", "re",
    "shutil", "signal", "socket", "sys", "threading", "traceback", "time",
)  # fmt: skip
