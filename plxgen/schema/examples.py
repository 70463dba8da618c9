"""Examples and documented defaults for every property of the schema (for editors).

yaml-language-server and VS Code show a property's `description`, `default`
and `examples` on hover and offer them on completion. `annotate()` adds them
to the schema that `plxgen.schema.build` builds, without changing what it
accepts: these keywords are annotations only.

An example comes from the `EXAMPLES` table (by property name, the values a
careful user would write) when it validates against that property, and is
otherwise derived from the property's own schema (its enum, default, bounds,
items or arguments). Every example is checked against its property by a test.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema

from plxgen.schema.registry import JSON

# Typical values, by property name; used where they validate.
EXAMPLES: dict[str, Any] = {
    # experiment file
    "name": "lenet",
    "environment": {"run_config": {"tf_random_seed": 1, "save_checkpoints_steps": 500}},
    "settings": {"logging": {"level": "INFO"}},
    "run_config": {"tf_random_seed": 1, "save_summary_steps": 100},
    "session": {"intra_op_parallelism_threads": 2},
    "gpu_options": {"allow_growth": True},
    "description": "LeNet-5 on handwritten digits.",
    "level": "INFO",
    "formatter": "%(asctime)s %(levelname)s %(message)s",
    "path": "logs/train.log",
    "run_type": "local",
    "tf_random_seed": 1,
    "save_summary_steps": 100,
    "save_checkpoints_secs": 600,
    "save_checkpoints_steps": 500,
    "keep_checkpoint_max": 5,
    "keep_checkpoint_every_n_hours": 1,
    "n_workers": 2,
    "n_ps": 1,
    "worker_configs": [{"index": 0, "log_device_placement": False}],
    "ps_configs": [{"index": 0, "log_device_placement": False}],
    "train_steps": 10000,
    "steps": 100,
    "delay_secs": 120,
    "continuous_eval_throttle_secs": 600,
    "data_files": ["data/mnist/mnist_train.tfrecord"],
    "meta_data_file": "data/mnist/meta_data.json",
    "batch_size": 64,
    "env_id": "CartPole-v1",
    "num_epochs": 10,
    "capacity": 10000,
    "min_after_dequeue": 5000,
    "num_threads": 4,
    "bucket_boundaries": [10, 20, 40],
    "feature_processors": {
        "image": {"layers": [{"Cast": {"dtype": "float32"}}, "Standardization"]}
    },
    "input_layers": "image",
    "output_layers": "logits",
    "inbound_nodes": ["conv1"],
    "tags": ["backbone"],
    "n_classes": 10,
    "one_hot_encode": True,
    "metrics": ["Accuracy", {"AUC": {"curve": "PR"}}],
    "summaries": ["loss", "learning_rate"],
    "loss": {"SoftmaxCrossEntropy": None},
    "optimizer": {"Adam": {"learning_rate": 0.001}},
    "master": ["chief-0:2222"],
    "worker": ["worker-0:2222", "worker-1:2222"],
    "ps": ["ps-0:2222"],
    "requests": 2,
    "limits": 4,
    "intra_op_parallelism_threads": 2,
    "inter_op_parallelism_threads": 2,
    "per_process_gpu_memory_fraction": 0.5,
    "gpu_memory_fraction": 0.5,
    "index": 0,
    # optimizers and decay
    "learning_rate": 0.001,
    "decay_type": "exponential_decay",
    "decay_rate": 0.96,
    "decay_steps": 1000,
    "start_decay_at": 1000,
    "stop_decay_at": 100000,
    "min_learning_rate": 1e-06,
    "staircase": True,
    "momentum": 0.9,
    # layers
    "units": 128,
    "filters": 32,
    "kernel_size": 3,
    "strides": 2,
    "pool_size": 2,
    "padding": "same",
    "rate": 0.5,
    "dropout": 0.2,
    "recurrent_dropout": 0.2,
    "activation": "relu",
    "recurrent_activation": "sigmoid",
    "kernel_initializer": "he_normal",
    "bias_initializer": "zeros",
    "kernel_regularizer": {"L2": {"l": 0.0001}},
    "bias_regularizer": {"L2": {"l": 0.0001}},
    "activity_regularizer": {"L1": {"l": 1e-05}},
    "kernel_constraint": {"MaxNorm": {"max_value": 3}},
    "bias_constraint": "non_neg",
    "axis": -1,
    "epsilon": 0.001,
    "target_shape": [28, 28, 1],
    "dims": [2, 1],
    "input_dim": 10000,
    "output_dim": 64,
    "mask_zero": True,
    "return_sequences": True,
    "data_format": "channels_last",
    "seed": 42,
    "dilation_rate": 2,
    "depth_multiplier": 1,
    "size": 2,
    "cropping": 1,
    "num_heads": 8,
    "key_dim": 64,
    "num_thresholds": 200,
    "curve": "PR",
    "k": 5,
    "thresholds": [0.3, 0.5, 0.7],
    "sensitivity": 0.9,
    "specificity": 0.9,
    "threshold": 0.5,
    "normalizer": 10,
    "dtype": "float32",
    "weights": 1.0,
    "label_smoothing": 0.1,
    "l": 0.0001,
    "l1": 1e-05,
    "l2": 0.0001,
    "max_value": 3.0,
}

# A small example for each shared definition, used where a property refers to it.
DEFINITION_EXAMPLES: dict[str, Any] = {
    "activation": "relu",
    "dtype": "float32",
    "initializer": "glorot_uniform",
    "regularizer": {"L2": {"l": 0.0001}},
    "constraint": {"MaxNorm": {"max_value": 3}},
    "layer": {"Dense": {"units": 10}},
    "graph": {
        "input_layers": "image",
        "layers": [
            {"Conv2D": {"filters": 32, "kernel_size": 5, "activation": "relu"}},
            {"MaxPooling2D": {"pool_size": 2}},
            "Flatten",
            {"Dense": {"units": 10, "name": "logits"}},
        ],
    },
    "feature_processor_graph": {
        "layers": [{"Cast": {"dtype": "float32"}}, "Standardization"]
    },
}

# Examples for a property name that means different things in different places:
# (property name, the start of its description, the example).
DESCRIBED_EXAMPLES: list[tuple[str, str, Any]] = [
    ("name", "The layer's name", "conv1"),
    ("name", "A name for the pipeline", "mnist_train"),
    ("name", "A name for the graph", "lenet"),
]

# Defaults that are values, for properties the name tables leave without one.
LITERAL_DEFAULTS: dict[str, Any] = {
    "metrics": [],
    "summaries": [],
    "worker_configs": [],
    "ps_configs": [],
    "bucket_boundaries": [],
    "intra_op_parallelism_threads": 0,
    "inter_op_parallelism_threads": 0,
}

# What an absent property means, for those whose default is not a value:
# (property name, the start of its description, the default in words).
COMPUTED_DEFAULTS: list[tuple[str, str, str]] = [
    ("name", "The layer's name", "a name Keras derives from the class (dense, dense_1, ...)"),
    ("tf_random_seed", "Seed of every random op", "no seed: every run draws anew"),
    ("save_checkpoints_steps", "Save a checkpoint every N steps", "none: save_checkpoints_secs times them"),
    ("n_classes", "Number of classes", "none (required with one_hot_encode)"),
    ("description", "What the experiment", "none"),
    ("formatter", "A logging format string", "%(asctime)s %(levelname)s %(message)s"),
    ("path", "Also log to this file", "none: log to stderr only"),
    ("boundaries", "piecewise_constant", "none (required by piecewise_constant)"),
    ("values", "piecewise_constant", "none (required by piecewise_constant)"),
    ("requests", "", "none"),
    ("limits", "", "none"),
    ("index", "", "none"),
    ("per_process_gpu_memory_fraction", "", "none: memory grows as needed (allow_growth)"),
    ("gpu_memory_fraction", "", "none: memory grows as needed (allow_growth)"),
    ("input_layers", "The feature these processors take", "the feature's own name"),
    ("dmax", "", "no clipping of d"),
    ("rmax", "", "no upper clip of r"),
    ("rmin", "", "no lower clip of r"),
    ("master", "", "none: a local run"),
    ("worker", "", "none: a local run"),
    ("ps", "", "none: a local run"),
    ("keep_checkpoint_every_n_hours", "", "none: only the newest keep_checkpoint_max are kept"),
    ("eval", "Evaluation", "none: the experiment only trains"),
    ("name", "A name for the", "none (informational)"),
]  # fmt: skip


def enum_text(value: Any) -> str:
    """An enum value as a YAML file writes it: `same`, `null`, `true`, `0.5`."""
    return value if isinstance(value, str) else json.dumps(value)


class Annotator:
    """Adds examples, defaults and enum lists to a schema's properties."""

    def __init__(self, root: JSON) -> None:
        self.root = root

    def valid(self, value: Any, schema: JSON) -> bool:
        """Whether value validates against schema (whose $refs point into the root)."""
        wrapped = {**schema, "definitions": self.root["definitions"]}
        return bool(jsonschema.Draft7Validator(wrapped).is_valid(value))

    def derive(self, schema: JSON, name: str | None, depth: int = 0) -> Any:
        """A valid value for schema: the table's, else one built from its keywords."""
        if "examples" in schema:  # the entry's own, where it gives one
            return copy.deepcopy(schema["examples"][0])
        if name in EXAMPLES and self.valid(EXAMPLES[name], schema):
            return copy.deepcopy(EXAMPLES[name])
        if "$ref" in schema:
            target = schema["$ref"].rsplit("/", 1)[-1]
            if target in DEFINITION_EXAMPLES:
                return copy.deepcopy(DEFINITION_EXAMPLES[target])
            return self.derive(self.root["definitions"][target], name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            values = schema["enum"]
            others = [v for v in values if v != schema.get("default")]
            return (others or values)[0]
        if "anyOf" in schema:
            for branch in schema["anyOf"]:
                value = self.derive(branch, name, depth + 1)
                if value is not None and self.valid(value, schema):
                    return value
            return None
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if "default" in schema and schema["default"] is not None:
            return copy.deepcopy(schema["default"])
        for kind in types:
            value = self._of_type(kind, schema, name, depth)
            if value is not None and self.valid(value, schema):
                return value
        return None

    def _of_type(self, kind: str, schema: JSON, name: str | None, depth: int) -> Any:
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            bounds: dict[str, float] = {
                k: v
                for k, v in schema.items()
                if k in ("minimum", "exclusiveMinimum", "maximum")
            }
            low = bounds.get("minimum", bounds.get("exclusiveMinimum", 0.0))
            high = bounds.get("maximum")
            value = max(1, low + 1) if high is None else (low + high) / 2
            return int(value) if kind == "integer" else float(value)
        if kind == "string":
            return "value" if name is None else name
        if kind == "array" and depth < 6:
            item = self.derive(schema.get("items", {}), name, depth + 1)
            return None if item is None else [item] * schema.get("minItems", 1)
        if kind == "object" and depth < 6:
            return self._object(schema, depth)
        return None

    def _object(self, schema: JSON, depth: int) -> Any:
        properties = schema.get("properties", {})
        names = schema.get("propertyNames", {}).get("enum")
        if names:  # a single-key mapping `Name: {args}`
            first = names[0]
            args = properties.get(first, {})
            return {first: self.derive(args, first, depth + 1)}
        keys = list(schema.get("required", [])) or list(properties)[:1]
        value = {}
        for key in keys:
            value[key] = self.derive(properties.get(key, {}), key, depth + 1)
        return value

    def annotate(self, node: Any) -> None:
        """Annotate every property schema under node, in place."""
        if isinstance(node, list):
            for item in node:
                self.annotate(item)
            return
        if not isinstance(node, dict):
            return
        properties = node.get("properties")
        if isinstance(properties, dict) and "propertyNames" not in node:
            required = set(node.get("required", []))
            for name, prop in properties.items():
                if isinstance(prop, dict):
                    self.annotate_property(name, prop, name in required)
        elif isinstance(properties, dict):  # members of a `Name: {args}` mapping
            for name, prop in properties.items():
                if isinstance(prop, dict):
                    self.annotate_member(prop)
        for key, value in node.items():
            if key != "examples" and key != "default":
                self.annotate(value)

    def annotate_property(self, name: str, prop: JSON, required: bool) -> None:
        """One property: an example, its default where one applies, its enum listed."""
        for key, start, example in DESCRIBED_EXAMPLES:
            if key == name and prop.get("description", "").startswith(start):
                prop.setdefault("examples", [example])
        if "examples" not in prop:
            example = self.derive(prop, name)
            if example is not None or self.valid(None, prop):
                prop["examples"] = [example]
        if "default" not in prop and not required:
            if self.valid(None, prop) and "$ref" not in prop:
                prop["default"] = None
            elif prop.get("$ref") == "#/definitions/dtype":
                prop["default"] = "float32"  # Keras' global dtype policy
            elif name in LITERAL_DEFAULTS and self.valid(LITERAL_DEFAULTS[name], prop):
                prop["default"] = LITERAL_DEFAULTS[name]
            elif (
                name == "tags" or prop.get("type") == "object" and self.valid({}, prop)
            ):
                prop["default"] = [] if name == "tags" else {}
        if "$ref" in prop and "description" not in prop:
            target = self.root["definitions"][prop["$ref"].rsplit("/", 1)[-1]]
            prop["description"] = target.get("description", "")
        description = prop.get("description", "")
        for key, start, words in COMPUTED_DEFAULTS:
            if key == name and description.startswith(start) and "Default:" not in description and "default" not in prop and not required:  # fmt: skip
                prop["description"] = f"{description} Default: {words}.".strip()
                break
        enum = prop.get("enum")
        if enum and len(enum) <= 30 and "One of:" not in prop.get("description", ""):
            listed = ", ".join(f"`{enum_text(v)}`" for v in enum)
            prop["description"] = (
                f"{prop.get('description', '')} One of: {listed}.".strip()
            )

    def annotate_member(self, prop: JSON) -> None:
        """A name of a family (a loss, an optimizer, ...): its arguments' example."""
        if "examples" not in prop:
            prop["examples"] = [self.derive(prop, None)]
        if "default" not in prop and self.valid(None, prop):
            prop["default"] = None  # `Name:` alone takes every argument's default


def annotate(schema: JSON) -> JSON:
    """The schema with examples and defaults on its properties (a new object)."""
    schema = json.loads(
        json.dumps(schema)
    )  # no shared sub-objects: each is annotated once
    annotator = Annotator(schema)
    annotator.annotate(schema)
    return schema
