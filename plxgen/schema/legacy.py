"""The compatibility policy of the 2017 vocabulary: one table, read everywhere.

Every key a 2017 schema class accepted (polyaxon-schemas 0.0.x, listed in
tests/schema/vocabulary_2017.md) is either a key of the current schema
(honoured as it is), or has an entry here:

- `honour`: a key the current schema gains from this table (`schema`), applied
  by lowering (a metric's `name` names it in metrics.json and TensorBoard);
- `rename`: honoured under its current spelling (`LeakyReLU.alpha` is
  `negative_slope`; `train.steps` is `train_steps`);
- `ignore`: accepted with a located warning that says why it has no meaning any
  more (a TF1 graph collection, a platform record field, a Kubernetes request
  that a script cannot apply); `--strict` makes the warning an error.

A few keys that 2017's public files wrote were declared by no 2017 class of
their place (`dropped`): marshmallow 2 dropped unknown keys unread, so those
files ran without them. They are ignored with a warning that says so, never
applied: a file means what it meant in 2017.

Names have the same three fates (`NAMES`: a 2017 name written as a current
one), and a few 2017 names were never buildable (`REJECTED`: abstract base
classes), which are refused as 2017 refused them. plxgen.compiler.compat applies
the table to a document before schema validation; `deprecate` adds the keys to the
editor schema, marked deprecated; `docs/compatibility.md` lists them, and
tests/schema/test_vocabulary_2017.py holds every 2017 key to one category.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from plxgen.schema.registry.common import END

# Where a key is written: a section of the file, or a kind of named object
# (`layer` is a graph layer, `image_op` a feature processor, `file` the top level).
Scope = Literal[
    "file", "project", "settings", "logging", "environment", "resources", "session", "train", "eval", "model",
    "graph", "pipeline", "layer", "image_op", "loss", "metric", "optimizer", "regularizer",
    "initializer", "constraint", "bridge", "exploration", "memory",
]  # fmt: skip
Action = Literal["honour", "rename", "ignore"]


@dataclass(frozen=True)
class Key:
    """The fate of one 2017 key of a scope (of its `names` only, when given)."""

    scope: Scope
    key: str
    action: Action
    reason: str
    names: tuple[str, ...] = ()
    to: str = ""  # rename: the current key
    # honour: the key's schema, added to the scope's objects (lowering applies it).
    schema: dict[str, Any] | None = None
    # ignore: values that need no warning, since the script does just that anyway.
    quiet: tuple[Any, ...] = ()
    # ignore: no 2017 class of the scope declared the key; 2017 dropped it unread.
    dropped: bool = False


@dataclass(frozen=True)
class Name:
    """A 2017 name written as a current one (`keys`: its arguments renamed; `add`:
    the 2017 defaults that differ from the current name's); `warn`: not exact."""

    scope: Scope
    name: str
    to: str
    reason: str
    keys: dict[str, str] = field(default_factory=dict)
    add: dict[str, Any] = field(default_factory=dict)
    warn: bool = False


@dataclass(frozen=True)
class Value:
    """A form of a 2017 key's value that the current schema does not take:
    `honour` writes it as the schema does, `reject` refuses it with a hint.

    `form`: `box` (a flat list of 4 numbers), `numbers` (a flat list of any
    other length) or `string`.
    """

    scope: Scope
    name: str
    key: str
    form: Literal["box", "numbers", "string"]
    action: Literal["honour", "reject"]
    reason: str
    hint: str = ""


# The image operations of 2017's feature processors (layers used as processors keep their keys).
_IMAGE_OPS = (
    "AdjustBrightness", "AdjustContrast", "AdjustGamma", "AdjustHue", "AdjustSaturation", "CentralCrop",
    "ConvertColorSpace", "ConvertImagesDtype", "DrawBoundingBoxes", "ExtractGlimpse", "Flip", "RandomCrop",
    "Resize", "Rotate90", "Standardization", "ToBoundingBox", "TotalVariation", "Transpose",
)  # fmt: skip
_COLLECTIONS = "a TF1 graph collection: Keras tracks losses, metrics and updates itself"
_PLATFORM = "a field of the 2017 platform's record, not of the experiment: a script has no use for it"
_ROUTING = "the graph output it compares with the labels; without it, every output"
_TARGET = (
    "a data pipeline gives one target, its labels, which every loss and metric compares with: "
    "there is no other tensor to name (2017's loss and metric functions took no input_layer either)"
)


def _scope_name(what: str, description: str) -> dict[str, Any]:
    """The schema of a name that TensorFlow takes as a scope: no leading `_`."""
    return {
        "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}" + END,
        "patternErrorMessage": f"a {what} name is a letter, then letters, digits or _ (at most 64)",
        "examples": [f"my_{what}"], "description": description,
    }  # fmt: skip


def _identifier(what: str, example: str, description: str) -> dict[str, Any]:
    """The schema of a name that becomes a key of metrics.json: a Python identifier."""
    return {
        "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}" + END,
        "patternErrorMessage": f"a {what} name is a Python identifier of at most 64 characters",
        "examples": [example], "description": description,
    }  # fmt: skip


def _output_schema(what: str) -> dict[str, Any]:
    """The schema of a key naming one output of the graph (a layer name)."""
    return {
        "type": "string", "minLength": 1, "examples": ["logits"],
        "description": f"The graph output {what} (a layer named in output_layers, or "
        "the last layer); default: every output of the graph.",
    }  # fmt: skip


_METRIC_WEIGHTS = "the weight of every example the metric counts (tf.metrics' scalar weights)"


def _dropped(owner: str, key: str, then: str) -> str:
    """The reason for a key no 2017 class of its place declared."""
    return f"2017's {owner} had no {key} and dropped it unread: {then}"


_POOLING = (
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
)  # fmt: skip
_SPATIAL = (
    "Keras 3's SpatialDropout has no noise_shape: it drops whole channels, the "
    "mask that 2017's SpatialDropout used whatever noise_shape said"
)

KEYS: tuple[Key, ...] = (
    # The file and its sections.
    Key("file", "run", "ignore", "the 2017 platform's `run:` section (a command in a container): a script runs itself"),
    *(
        Key("project", key, "ignore", _PLATFORM)
        for key in (
            "user", "uuid", "is_public", "has_code", "created_at", "num_experiments",
            "num_experiment_groups", "experiment_groups", "experiments",
        )
    ),  # fmt: skip
    Key("settings", "export_strategies", "ignore", "`--schedule export` writes a SavedModel; 2017's export strategies have no TF2 counterpart"),
    Key("environment", "cluster_uuid", "ignore", _PLATFORM),
    Key("train", "steps", "rename", "the 2017 schema's spelling of train_steps", to="train_steps"),
    Key("train", "hooks", "ignore", "TF1 session hooks: checkpoints and summaries come from environment.run_config, logging from settings.logging"),
    Key("eval", "hooks", "ignore", "TF1 session hooks: checkpoints and summaries come from environment.run_config, logging from settings.logging"),
    # Keys that 2017's own files wrote where no 2017 class declared them.
    Key("eval", "eval_every_n_steps", "ignore", _dropped("eval section", "eval_every_n_steps", "the evaluation follows the checkpoints, at most every continuous_eval_throttle_secs"), dropped=True),
    Key("logging", "run_config", "ignore", _dropped("logging", "run_config", "write it under environment to have it applied"), dropped=True),
    Key("logging", "delay_workers_by_global_step", "ignore", _dropped("logging", "delay_workers_by_global_step", "write it under environment to have it applied"), dropped=True),
    Key("pipeline", "bucket_boundaries", "ignore", "images have no length to bucket by", names=("TFRecordImagePipeline", "ImageCaptioningPipeline")),
    # Layers: Keras 2 spellings.
    Key("layer", "alpha", "rename", "Keras 3 calls LeakyReLU's alpha negative_slope", names=("LeakyReLU",), to="negative_slope"),
    Key("layer", "noise_shape", "ignore", _SPATIAL, names=("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")),
    Key("layer", "trainable", "ignore", "SpatialDropout has no weights to train", names=("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"), quiet=(True,)),
    Key("layer", "input_length", "ignore", "Keras 3's Embedding takes its sequence length from its input", names=("Embedding",)),
    Key(
        "layer", "activity_regularizer", "honour",
        "Keras 3's Embedding takes it as every layer does, though its signature does not list it",
        names=("Embedding",),
        schema={
            "anyOf": [{"$ref": "#/definitions/regularizer"}, {"type": "null"}], "default": None,
            "examples": [{"L1": {"l": 1e-05}}],
            "description": "Regularizer function applied to the output of the layer (its \"activation\").",
        },
    ),
    Key("layer", "implementation", "ignore", "Keras 3 chooses the recurrent kernel itself; the results are the same", names=("LSTM", "GRU", "SimpleRNN", "ConvLSTM2D")),
    Key("layer", "unroll", "ignore", "Keras 3's ConvLSTM2D does not unroll (a speed trade-off only)", names=("ConvLSTM2D",), quiet=(False,)),
    Key("layer", "kernels", "ignore", _dropped("pooling layers", "kernels", "the window was pool_size (default 2), as it is here"), names=_POOLING, dropped=True),
    Key("layer", "dropout", "ignore", _dropped("Dense", "dropout", "no dropout was applied; write a Dropout layer after the Dense to have one"), names=("Dense",), dropped=True),
    # Feature processors: layer keys that an op of the input pipeline has no use for.
    Key("image_op", "name", "ignore", "feature processors are tf.image calls in the input pipeline, not named layers", names=_IMAGE_OPS),
    Key("image_op", "trainable", "ignore", "feature processors have no weights to train", names=_IMAGE_OPS, quiet=(True,)),
    Key("image_op", "dtype", "ignore", "image operations compute in the dtype of their input; write a Cast or ConvertImagesDtype", names=tuple(n for n in _IMAGE_OPS if n != "ConvertImagesDtype")),
    Key("image_op", "inbound_nodes", "ignore", "the processors of a feature apply in the order written", names=_IMAGE_OPS),
    Key("image_op", "align_corners", "ignore", "TensorFlow 2's resize has no align_corners: it samples pixel centres", names=("Resize",), quiet=(False,)),
    Key("image_op", "method", "ignore", "ToBoundingBox crops (tf.image.crop_to_bounding_box); use ZeroPadding2D in the model to pad", names=("ToBoundingBox",), quiet=("crop",)),
    # Losses and metrics.
    Key("loss", "collect", "ignore", _COLLECTIONS, quiet=(True,)),
    Key("loss", "name", "honour", "the loss's name in metrics.json and TensorBoard, as 2017 named its summary", schema=_identifier("loss", "cross_entropy", "The loss's name in metrics.json and TensorBoard (default: loss).")),
    Key("loss", "input_layer", "ignore", _TARGET),
    Key("loss", "output_layer", "honour", _ROUTING, schema=_output_schema("the loss compares with the labels")),
    Key("metric", "metrics_collections", "ignore", _COLLECTIONS),
    Key("metric", "updates_collections", "ignore", _COLLECTIONS),
    Key("metric", "name", "honour", "the metric's name in metrics.json and TensorBoard, as 2017 named its summary", schema=_identifier("metric", "top_accuracy", "The metric's name in metrics.json and TensorBoard (default: Keras' name for it; a metric with one entry per threshold keeps those).")),
    Key("metric", "input_layer", "ignore", _TARGET),
    Key("metric", "output_layer", "honour", _ROUTING, schema=_output_schema("the metric compares with the labels")),
    Key(
        "metric", "values", "honour", "the graph output whose values it averages; without it, every output",
        names=("Mean", "MeanTensor", "PercentageLess"), schema=_output_schema("whose values the metric reads"),
    ),
    Key(
        "metric", "weights", "honour", _METRIC_WEIGHTS,
        schema={
            "type": "number", "minimum": 0, "examples": [0.5],
            "description": "The weight of every example the metric counts (default 1): counts are "
            "multiplied by it, means and ratios are not changed by a weight above 0.",
        },
    ),
    Key(
        "metric", "class_id", "honour", "the one class the metric counts, as tf.metrics' precision_at_k and recall_at_k did",
        names=("SparsePrecisionAtK", "SparseRecallAtK"),
        schema={
            "type": "integer", "minimum": 0, "maximum": 100000, "examples": [0],
            "description": "The one class it counts (with one-hot labels): precision among the examples "
            "that have it in their k best scores, recall among the examples of that class.",
        },
    ),
    # Optimizers, regularizers, initializers, constraints, bridges.
    Key("optimizer", "global_step", "ignore", "Keras optimizers count their own steps (optimizer.iterations)"),
    Key("optimizer", "use_locking", "ignore", "TF1 variable locking: Keras 3 updates its variables without locks", quiet=(False,)),
    Key(
        "optimizer", "name", "honour", "the Keras optimizer's name, which scopes its variables as 2017's scoped its ops",
        schema=_scope_name("optimizer", "the Keras optimizer's name: the scope of its variables (default: Keras')"),
    ),
    Key("regularizer", "name", "ignore", "Keras regularizers have no name: the penalty is part of `loss`"),
    Key("regularizer", "collect", "ignore", _COLLECTIONS, quiet=(True,)),
    Key("initializer", "dtype", "ignore", "Keras 3 initializers take the dtype of the layer's weights"),
    Key("initializer", "mean", "ignore", "TensorFlow's orthogonal initializer takes no mean", names=("Orthogonal",)),
    Key("initializer", "stddev", "ignore", "TensorFlow's orthogonal initializer takes no stddev", names=("Orthogonal",)),
    Key("constraint", "w", "ignore", "NonNeg takes no argument", names=("NonNeg",)),
    Key(
        "bridge", "name", "honour", "the name of the bridge's layer (its weights and summaries)",
        names=("LatentBridge",), schema=_scope_name("bridge", "The name of the bridge's layer (default: bridge)."),
    ),
    Key("bridge", "name", "ignore", "NoOpBridge writes no layer: there is nothing to name", names=("NoOpBridge",)),
    Key("bridge", "state_size", "ignore", "the bridge takes its size from the encoder's output"),
    Key("model", "graph", "ignore", "a generator is its encoder, bridge and decoder: the 2017 base model's graph has no part in it", names=("generator",)),
    # Reinforcement learning.
    *(Key("model", key, "ignore", "trpo steps by the natural gradient (its value baseline has its own Adam)", names=("trpo",)) for key in ("optimizer", "clip_gradients")),
    Key("exploration", "is_continuous", "ignore", "the agent knows whether its actions are continuous from the environment", quiet=(False,)),
    Key("exploration", "num_actions", "ignore", "the number of actions comes from the environment", names=("OrnsteinUhlenbeck", "RandomDecay")),
    Key("memory", "size", "ignore", "BatchMemory holds the episodes of one update: its size is its batch_size", names=("BatchMemory",)),
)  # fmt: skip

NAMES: tuple[Name, ...] = (
    Name(
        "layer", "ThresholdedReLU", "ReLU", "Keras 3 writes ThresholdedReLU(theta) as ReLU(threshold=theta)",
        keys={"theta": "threshold"}, add={"threshold": 1.0},
    ),
    Name(
        "metric", "MeanTensor", "Mean", "a running mean per element is not a scalar metric: reported as its overall Mean",
        warn=True,
    ),
)  # fmt: skip

VALUES: tuple[Value, ...] = (
    Value(
        "image_op", "DrawBoundingBoxes", "boxes", "box", "honour",
        "one box [y_min, x_min, y_max, x_max] written without its list: drawn as that one box",
    ),
    Value(
        "image_op", "DrawBoundingBoxes", "boxes", "numbers", "reject",
        "2017's schema took a flat list of 3 numbers, which tf.image.draw_bounding_boxes refused: a box has 4 coordinates",
        "write each box as [y_min, x_min, y_max, x_max], e.g. boxes: [[0.1, 0.1, 0.5, 0.5]]",
    ),
    Value(
        "metric", "MeanRelativeError", "normalizer", "string", "reject",
        "2017 divided by the tensor named here; the script's metrics read only the labels and the predictions",
        "give the normalizer as a number, e.g. normalizer: 10.0",
    ),
)  # fmt: skip


def value_rule(scope: str, name: str | None, key: str, value: Any) -> Value | None:
    """The entry for the form of a key's value, if the table has one."""
    numbers = isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    )
    form = (
        "string" if isinstance(value, str)
        else ("box" if len(value) == 4 else "numbers") if numbers and value
        else None
    )  # fmt: skip
    for rule in VALUES:
        if (rule.scope, rule.name, rule.key, rule.form) == (scope, name, key, form):
            return rule
    return None


# 2017 names that were never buildable, refused as 2017 refused them.
REJECTED: dict[str, str] = {
    "Recurrent": "an abstract base class of Keras 2 that no file could build: use LSTM, GRU or SimpleRNN",
    "ConvRecurrent2D": "an abstract base class of Keras 2 that no file could build: use ConvLSTM2D",
    "Wrapper": "an abstract base class of Keras 2 that no file could build: use TimeDistributed or Bidirectional",
    "BasePipeline": "the abstract base of 2017's pipelines: name one of them",
    "model": "the base of 2017's model kinds: write classifier, regressor or generator",
}

# Keys that hold layer references, where the Keras 2 node form `[name, 0, 0]` is honoured.
REFERENCES = {
    "layer": ("inbound_nodes",), "graph": ("input_layers", "output_layers"),
    "loss": ("output_layer",), "metric": ("output_layer", "values"),
}  # fmt: skip


def key_rule(scope: str, name: str | None, key: str) -> Key | None:
    """The entry for a key of a scope (of the named object), if the table has one."""
    for rule in KEYS:
        if (
            rule.scope == scope
            and rule.key == key
            and (not rule.names or name in rule.names)
        ):
            return rule
    return None


def honoured(scope: str, name: str) -> dict[str, Any]:
    """The schemas of the keys this table adds to a named object of a scope."""
    return {
        rule.key: rule.schema
        for rule in KEYS
        if rule.scope == scope and rule.action == "honour" and rule.schema
        and (not rule.names or name in rule.names)
    }  # fmt: skip


def name_rule(scope: str, name: str) -> Name | None:
    """The entry for a 2017 name of a scope written as a current one, if any."""
    for rule in NAMES:
        if rule.scope == scope and rule.name == name:
            return rule
    return None


# --- Where each scope lives in a document -----------------------------------

_NAMED_SCOPES: dict[str, Scope] = {
    "loss": "loss", "optimizer": "optimizer", "bridge": "bridge", "exploration": "exploration",
}  # fmt: skip
GRAPHS = ("graph", "encoder", "decoder")


def _named(value: Any) -> tuple[str, dict[str, Any]] | None:
    """A `{Name: {args}}` item as (Name, args); None for any other form."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, args),) = value.items()
        if isinstance(name, str) and isinstance(args, dict):
            return name, args
    return None


Where = tuple[Scope, str | None, tuple[str | int, ...], dict[str, Any]]


def objects(data: Any) -> Iterator[Where]:
    """Every mapping of a document that a scope of the table applies to:
    (scope, its name or None, its path, the mapping)."""
    if not isinstance(data, dict):
        return
    yield "file", None, (), data
    for section in ("project", "settings", "environment", "train", "eval"):
        value = data.get(section)
        if isinstance(value, dict):
            yield section, None, (section,), value
    settings = data.get("settings")
    if isinstance(settings, dict) and isinstance(settings.get("logging"), dict):
        yield "logging", None, ("settings", "logging"), settings["logging"]
    environment = data.get("environment")
    if isinstance(environment, dict):
        for key, value in environment.items():
            items = value if isinstance(value, list) else [value]
            if key.endswith("resources"):
                for i, item in enumerate(items):
                    where = (
                        ("environment", key, i)
                        if isinstance(value, list)
                        else ("environment", key)
                    )
                    if isinstance(item, dict):
                        yield "resources", None, where, item
        run_config = environment.get("run_config")
        if isinstance(run_config, dict) and isinstance(run_config.get("session"), dict):
            yield "session", None, ("environment", "run_config", "session"), run_config[
                "session"
            ]
    models = data.get("model")
    if isinstance(models, dict):
        for kind, model in models.items():
            if isinstance(model, dict):
                yield from _model(("model", kind), model)
    for section in ("train", "eval"):
        yield from _pipeline(data.get(section), (section,))
        value = data.get(section)
        if isinstance(value, dict) and _named(value.get("memory")):
            name, args = _named(value["memory"])  # type: ignore[misc]
            yield "memory", name, (section, "memory", name), args


def _model(path: tuple[str | int, ...], model: dict[str, Any]) -> Iterator[Where]:
    yield "model", str(path[-1]), path, model
    for key, scope in _NAMED_SCOPES.items():
        found = _named(model.get(key))
        if found:
            yield scope, found[0], path + (key, found[0]), found[1]
    metrics = model.get("metrics")
    if isinstance(metrics, list):
        for i, item in enumerate(metrics):
            found = _named(item)
            if found:
                yield "metric", found[0], path + ("metrics", i, found[0]), found[1]
    for key in GRAPHS:
        graph = model.get(key)
        if isinstance(graph, dict):
            yield "graph", None, path + (key,), graph
            yield from _layers(graph.get("layers"), path + (key, "layers"), "layer")


def _layers(layers: Any, path: tuple[str | int, ...], scope: Scope) -> Iterator[Where]:
    if not isinstance(layers, list):
        return
    for i, item in enumerate(layers):
        found = _named(item)
        if not found:
            continue
        name, args = found
        where = path + (i, name)
        yield scope, name, where, args
        for key, value in args.items():
            for suffix, nested in (("_regularizer", "regularizer"), ("_initializer", "initializer"), ("_constraint", "constraint")):  # fmt: skip
                inner = _named(value)
                if key.endswith(suffix) and inner:
                    yield nested, inner[0], where + (key, inner[0]), inner[1]  # type: ignore[misc]
        wrapped = args.get("layer")
        if wrapped is not None:
            yield from _layers([wrapped], where + ("layer",), scope)


def _pipeline(section: Any, path: tuple[str | int, ...]) -> Iterator[Where]:
    if not isinstance(section, dict):
        return
    found = _named(section.get("data_pipeline"))
    if not found:
        return
    name, args = found
    yield "pipeline", name, path + ("data_pipeline", name), args
    processors = args.get("feature_processors")
    if isinstance(processors, dict):
        for feature, graph in processors.items():
            if isinstance(graph, dict):
                where = path + (
                    "data_pipeline",
                    name,
                    "feature_processors",
                    feature,
                    "layers",
                )
                yield from _layers(graph.get("layers"), where, "image_op")


# --- The editor schema --------------------------------------------------------

# A name that only the object mappings of a scope hold, to find them in the schema.
_ANCHORS: dict[str, str] = {  # HuberLoss: also in the losses of an agent
    "layer": "Conv2D", "image_op": "Standardization", "loss": "HuberLoss",
    "metric": "PercentageLess", "optimizer": "Nestrov", "regularizer": "L1L2",
    "initializer": "GlorotUniform", "constraint": "MinMaxNorm", "bridge": "LatentBridge",
    "exploration": "OrnsteinUhlenbeck", "memory": "BatchMemory", "pipeline": "TFRecordImagePipeline",
}  # fmt: skip
# A key that only the section's mapping holds.
_SECTION_ANCHORS: dict[str, tuple[str, ...]] = {
    "file": ("version", "model"), "project": ("name", "description"),
    "settings": ("logging", "run_type"), "logging": ("level", "formatter", "path"),
    "environment": ("run_config", "n_workers"),
    "resources": ("cpu", "gpu"), "session": ("gpu_options",), "train": ("train_steps",),
    "eval": ("delay_secs",), "graph": ("input_layers", "layers"),
}  # fmt: skip


def _mappings(schema: Any) -> Iterator[dict[str, Any]]:
    """Every sub-schema with `properties`, depth first."""
    if isinstance(schema, dict):
        if isinstance(schema.get("properties"), dict):
            yield schema
        for value in schema.values():
            yield from _mappings(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _mappings(value)


def description(rule: Key | Name) -> str:
    """What the editor schema and the docs say of an entry."""
    if isinstance(rule, Name):
        return f"2017 name: written as {rule.to}. {rule.reason[0].upper()}{rule.reason[1:]}."
    if rule.action == "rename":
        return f"2017 spelling of `{rule.to}`: {rule.reason}."
    return f"Ignored (2017): {rule.reason}."


def extend(schema: dict[str, Any]) -> dict[str, Any]:
    """The strict schema with the keys the table honours added to their scope's objects."""
    for mapping in list(_mappings(schema)):
        properties = mapping["properties"]
        for scope, anchor in _ANCHORS.items():
            if anchor not in properties:
                continue
            for name, args in properties.items():
                for rule in KEYS:
                    if (
                        rule.action == "honour" and rule.scope == scope and rule.schema
                        and (not rule.names or name in rule.names) and isinstance(args, dict)
                    ):  # fmt: skip
                        if not args.get(
                            "properties"
                        ):  # its example stays `{}`, not the new key
                            args.setdefault("examples", [{}])
                        args.setdefault("properties", {}).setdefault(
                            rule.key, copy.deepcopy(rule.schema)
                        )
    return schema


def deprecate(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema (a copy) with every key and name of the table, marked deprecated."""
    schema = copy.deepcopy(schema)
    for mapping in list(_mappings(schema)):
        properties = mapping["properties"]
        for scope, anchor in _ANCHORS.items():
            if anchor not in properties:
                continue
            for name, args in list(properties.items()):
                if not isinstance(args, dict):
                    continue
                for rule in KEYS:
                    if (
                        rule.scope == scope
                        and rule.action != "honour"
                        and (not rule.names or name in rule.names)
                    ):
                        _add(args, rule.key, rule)
            for name_entry in NAMES:
                if name_entry.scope == scope and name_entry.name not in properties:
                    text = description(name_entry)
                    properties[name_entry.name] = {
                        "type": ["object", "null"], "deprecated": True,
                        "description": text, "deprecationMessage": text,
                    }  # fmt: skip
        for scope, keys in _SECTION_ANCHORS.items():
            if all(k in properties for k in keys):
                for rule in KEYS:
                    if rule.scope == scope:
                        _add(mapping, rule.key, rule)
    return schema


def _add(mapping: dict[str, Any], key: str, rule: Key) -> None:
    properties = mapping.get("properties")
    if not isinstance(properties, dict) or key in properties:
        return
    target = properties.get(rule.to) if rule.action == "rename" else None
    entry = {
        k: v
        for k, v in (target or {}).items()
        if k not in ("description", "examples", "default")
    }
    text = description(rule)
    properties[key] = {
        **entry,
        "deprecated": True,
        "description": text,
        "deprecationMessage": text,
    }
