"""Builds the JSON Schema of the experiment file from the name tables.

`python -m plxgen.schema.build` rewrites `schemas/experiment.schema.json`; a test
fails when the committed file is stale. The layer part comes from
`schemas/keras_layers.json`, which `tools/gen_keras_layers.py` derives from
the Keras constructors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from plxgen.schema import registry, rl_registry
from plxgen.schema.registry import JSON, Entry, boolean, enum, integer, number

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_ID = "https://plxgen.dev/schemas/experiment.schema.json"

# Characters a path or a name must not hold: C0 and C1 control characters
# (a NUL, a newline or a tab in a file name only fails later, and less clearly).
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
CONTROL_HINT = (
    "write it on one line, without control characters (newline, tab, NUL, ...)"
)
# Keras and TensorFlow use layer and model names as name scopes, which take
# only these characters (and Keras no `/`); a model name is a root scope,
# which starts with a letter, a digit or a dot.
SCOPE = "A-Za-z0-9_.>-"
NAME_HINT = "use only letters, digits, `_`, `.`, `-` and `>`: TensorFlow name scopes take nothing else"


def forbid(characters: str, hint: str) -> JSON:
    """`not: {type: string, pattern: [characters]}`: no string holding one of them.

    validate.py reports the first offending character and uses `description`
    as the hint. A `^[^...]*$` pattern would let a trailing newline through,
    and `type` inside the `not` leaves a value of another type to the
    property's own `type` instead of reporting it twice.
    """
    return {
        "not": {"type": "string", "pattern": f"[{characters}]", "description": hint}
    }


def _no_control(schema: JSON) -> JSON:
    """The same schema, its strings (also inside anyOf and items) without control characters."""
    schema = dict(schema)
    if schema.get("type") == "string" and "enum" not in schema:
        schema.update(forbid(CONTROL, CONTROL_HINT))
    if "items" in schema:
        schema["items"] = _no_control(schema["items"])
    if "anyOf" in schema:
        schema["anyOf"] = [_no_control(branch) for branch in schema["anyOf"]]
    return schema


_LAYER_NAME: JSON = {
    "type": "string",
    "minLength": 1,
    **forbid("^" + SCOPE, NAME_HINT),
}

# Layer arguments every layer takes, besides its constructor's own.
_COMMON_LAYER_ARGS: dict[str, JSON] = {
    "name": {
        **_LAYER_NAME,
        "description": "The layer's name, used by inbound_nodes.",
    },
    "trainable": boolean(True, "Whether the layer's weights are trained."),
    "dtype": {"$ref": "#/definitions/dtype"},
    "inbound_nodes": _no_control(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ],
            "description": "Names of the layers (or graph inputs) feeding this one (default: the previous layer).",
        }
    ),
    "is_output": boolean(False, "Make this layer an output of the graph."),
    "tags": _no_control(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
            ],
            "description": "Tags: one name or a list; `{{ tags.NAME }}` lists the layers tagged NAME.",
        }
    ),
}


# Keras layers whose constructors take no **kwargs, hence no `trainable`.
_NO_TRAINABLE = {"SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"}


def _args_object(entry: Entry, extra: dict[str, JSON] | None = None) -> JSON:
    properties = {**entry.params, **(extra or {})}
    schema: JSON = {
        "type": "object" if entry.required else ["object", "null"],
        "description": entry.description,
        "properties": properties,
        "additionalProperties": False,
    }
    if entry.required:
        schema["required"] = list(entry.required)
    return schema


def named(
    family: dict[str, JSON], description: str, *, strings: list[str] | None = None
) -> JSON:
    """A single-key mapping `Name: {args}`; with `strings`, a bare name is accepted too."""
    mapping: JSON = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"enum": sorted(family)},
        "properties": family,
        "description": description,
    }
    if strings is None:
        return mapping
    return {
        "anyOf": [{"type": "string", "enum": strings}, mapping],
        "description": description,
    }


def _bare(family: dict[str, JSON]) -> list[str]:
    """Names that may stand alone as a string: those with no required argument."""
    return sorted(name for name, args in family.items() if not args.get("required"))


def _entries(table: dict[str, Entry]) -> dict[str, JSON]:
    return {name: _args_object(entry) for name, entry in table.items()}


def _pipelines() -> dict[str, JSON]:
    """The pipelines, their paths and names without control characters."""
    pipelines = _entries(registry.PIPELINES)
    for args in pipelines.values():
        args["properties"] = {
            key: (
                _no_control(prop)
                if key
                in (
                    "data_files",
                    "meta_data_file",
                    "name",
                    "files",
                    "source_files",
                    "target_files",
                    "label_column",
                    "feature_columns",
                )
                else prop
            )
            for key, prop in args["properties"].items()
        }
    return pipelines


def _keyed(table: dict[str, tuple[str, Entry]]) -> dict[str, JSON]:
    return {name: _args_object(entry) for name, (_, entry) in table.items()}


def _layers() -> dict[str, JSON]:
    keras_layers = json.loads((SCHEMAS / "keras_layers.json").read_text())
    layers: dict[str, JSON] = {}
    for name, spec in keras_layers["layers"].items():
        for arg, prop in spec["properties"].items():
            for sub, sub_schema in prop.get("properties", {}).items():
                sub_schema.setdefault(
                    "description", f"`{sub}` of {arg}, as Keras' {name} takes it."
                )
        entry = Entry(
            spec["description"], spec["properties"], tuple(spec.get("required", ()))
        )
        common = {
            k: v
            for k, v in _COMMON_LAYER_ARGS.items()
            if not (k == "trainable" and name in _NO_TRAINABLE)
        }
        layers[name] = _args_object(entry, common)
    cast = Entry(
        "Cast the input to a dtype.",
        {"dtype": {"$ref": "#/definitions/dtype"}},
        ("dtype",),
    )
    layers["Cast"] = _args_object(
        cast, {k: v for k, v in _COMMON_LAYER_ARGS.items() if k != "dtype"}
    )
    return layers


def _obj(
    description: str, properties: dict[str, JSON], required: list[str] | None = None
) -> JSON:
    schema: JSON = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _declarations() -> JSON:
    return {
        "type": "object",
        "description": "Named values, used anywhere below as `{{ name }}` or `{{ a.b[0] }}`.",
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    }


def _matrix() -> JSON:
    number = {"type": "number"}

    def spaced(fields: list[str], optional: list[str], description: str) -> JSON:
        described = {
            "start": "The first value (an exponent for logspace).",
            "stop": "The last value (excluded by range; an exponent for logspace).",
            "step": "The distance between values.",
            "num": "How many values.",
            "base": "The base of the exponents (10).",
        }
        return {
            "description": description,
            "anyOf": [
                {"type": "string", "pattern": "^[^:]+(:[^:]+){%d,%d}$" % (len(fields) - 1, len(fields) + len(optional) - 1)},
                {"type": "array", "items": number, "minItems": len(fields), "maxItems": len(fields) + len(optional)},
                _obj("The bounds by name.", {k: {**number, "description": described[k]} for k in fields + optional}, fields),
            ],
        }  # fmt: skip

    axis = {
        "type": "object",
        "description": "One axis: exactly one of values, range, linspace, logspace, geomspace.",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {
            "values": {
                "type": "array",
                "minItems": 1,
                "description": "The values, as written.",
            },
            "range": spaced(["start", "stop", "step"], [], "`start:stop:step`, stop excluded."),
            "linspace": spaced(["start", "stop", "num"], [], "`start:stop:num` evenly spaced values."),
            "logspace": spaced(["start", "stop", "num"], ["base"], "`start:stop:num[:base]`: base**x for x evenly spaced."),
            "geomspace": spaced(["start", "stop", "num"], [], "`start:stop:num` values in a geometric progression."),
        },
    }  # fmt: skip
    return {
        "type": "object",
        "description": "Hyperparameter axes: one script per combination, each axis used as `{{ name }}`.",
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "additionalProperties": axis,
        "minProperties": 1,
    }


def _string(description: str, **extra: Any) -> JSON:
    return {"type": "string", "description": description, **extra}


def _session() -> JSON:
    return _obj(
        "TensorFlow session options, applied through tf.config.",
        {
            "log_device_placement": boolean(False, "Log the device of every op."),
            "allow_soft_placement": boolean(
                True, "Fall back to another device when one is missing."
            ),
            "intra_op_parallelism_threads": integer(
                None, "Threads inside one op (0 = TF's choice).", minimum=0
            ),
            "inter_op_parallelism_threads": integer(
                None, "Ops run in parallel (0 = TF's choice).", minimum=0
            ),
            "gpu_options": _obj(
                "GPU options.",
                {
                    "allow_growth": boolean(True, "Allocate GPU memory as needed."),
                    "per_process_gpu_memory_fraction": number(
                        None,
                        "Fraction of GPU memory this process may use.",
                        exclusiveMinimum=0,
                        maximum=1,
                    ),
                    "gpu_memory_fraction": number(
                        None,
                        "Older spelling of per_process_gpu_memory_fraction.",
                        exclusiveMinimum=0,
                        maximum=1,
                    ),
                    "visible_device_list": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0, "maximum": 1023},
                        "minItems": 1,
                        "maxItems": 64,
                        "uniqueItems": True,
                        "description": "The GPUs this process sees, by index, e.g. [0, 1] (default: all).",
                    },
                },
            ),
            "index": integer(
                None, "Task index, in worker_configs / ps_configs.", minimum=0
            ),
        },
    )


def _resources() -> JSON:
    amount = _obj(
        "Requests and limits.",
        {
            "requests": {
                "type": ["number", "string"],
                "description": "What the task asks for.",
            },
            "limits": {
                "type": ["number", "string"],
                "description": "The most the task may use.",
            },
        },
    )
    return _obj(
        "Resources of one task (recorded for whoever schedules it).",
        {"cpu": amount, "memory": amount, "gpu": amount},
    )


def _environment() -> JSON:
    hosts = {
        "type": "array",
        "items": {"type": "string", "pattern": "^[^\\s:]+:[0-9]+$"},
        "minItems": 1,
    }
    run_config = _obj(
        "How the run saves, summarises and seeds itself.",
        {
            "tf_random_seed": integer(
                None,
                "Seed of every random op; runs with a seed repeat exactly.",
                minimum=0,
                maximum=2**32 - 1,  # what numpy's seed takes
            ),
            "save_summary_steps": integer(
                100, "Write TensorBoard summaries every N steps.", minimum=1
            ),
            "save_checkpoints_secs": integer(
                None,
                "Save a checkpoint every N seconds (default 600 when no steps are given).",
                minimum=1,
            ),
            "save_checkpoints_steps": integer(
                None, "Save a checkpoint every N steps.", minimum=1
            ),
            "keep_checkpoint_max": integer(
                5, "How many recent checkpoints to keep.", minimum=1
            ),
            "keep_checkpoint_every_n_hours": number(
                None, "Also keep one checkpoint every N hours.", exclusiveMinimum=0
            ),
            "session": _session(),
            "cluster": _obj(
                "The cluster: host:port of each task.",
                {
                    "master": {**hosts, "description": "The chief (2017 'master')."},
                    "chief": {
                        **hosts,
                        "description": "The chief (today's name of 'master').",
                    },
                    "worker": {**hosts, "description": "The workers."},
                    "ps": {**hosts, "description": "The parameter servers."},
                },
            ),
        },
    )
    return _obj(
        "Where and how the experiment runs.",
        {
            "n_workers": integer(0, "Workers besides the chief.", minimum=0),
            "n_ps": integer(0, "Parameter servers.", minimum=0),
            "delay_workers_by_global_step": boolean(
                False,
                "Parameter-server training: worker i joins at global step 8000 * ln(i + 1).",
            ),
            "strategy": enum(
                ["one_device", "mirrored", "multi_worker_mirrored", "parameter_server"],
                None,
                "The tf.distribute strategy (default: parameter_server with n_ps or ps "
                "tasks, multi_worker_mirrored with workers, mirrored with replicas, else one_device).",
            ),
            "replicas": integer(
                None,
                "mirrored: train on this many local devices (the first GPUs, else as many logical CPUs).",
                minimum=1,
                maximum=64,
            ),
            "mixed_precision": enum(
                [False, True, "mixed_float16", "mixed_bfloat16"],
                False,
                "Compute in 16 bits, keep the weights in float32 (true: mixed_float16, with loss scaling).",
            ),
            "steps_per_execution": integer(
                100,
                "Training steps run by one call of the compiled step loop; a call also ends "
                "at every summary and checkpoint step. Fewer calls mean less Python per "
                "step: measured on 2 CPU cores, 100 steps per call trained a small MLP 2.1x "
                "as fast as 1 (LeNet: no difference).",
                minimum=1,
                maximum=100_000,
            ),
            "jit_compile": boolean(
                False,
                "Compile the training and evaluation steps with XLA (one device only). "
                "Measured on 2 CPU cores: a small MLP trained 1.33x as fast, LeNet 0.58x "
                "(convolutions), so it is off by default; XLA also adds seconds of "
                "compilation at start-up.",
            ),
            "run_config": run_config,
            "default_worker_config": _session(),
            "default_ps_config": _session(),
            "worker_configs": {
                "type": "array",
                "items": _session(),
                "description": "Per-worker sessions (with index).",
            },
            "ps_configs": {
                "type": "array",
                "items": _session(),
                "description": "Per-ps sessions (with index).",
            },
            "resources": _resources(),
            "default_worker_resources": _resources(),
            "default_ps_resources": _resources(),
        },
    )


def _graph(input_required: bool = True) -> JSON:
    names = _no_control(
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    )
    return _obj(
        "A graph of Keras layers.",
        {
            "input_layers": {
                **names,
                "description": "The graph's inputs: feature names of the data pipeline.",
            },
            "output_layers": {
                **names,
                "description": "The graph's outputs (default: the last layer).",
            },
            "layers": {
                "type": "array",
                "items": {"$ref": "#/definitions/layer"},
                "minItems": 1,
                "description": "The layers, in order; each feeds the next unless it names its inbound_nodes.",
            },
            "name": _no_control(_string("A name for the graph.")),
        },
        ["input_layers", "layers"] if input_required else ["layers"],
    )


def _bridge() -> JSON:
    latent = Entry(
        "A variational autoencoder's latent code: the encoder's output gives the mean and "
        "log-variance of a Gaussian; the decoder takes a sample (reparameterised) and the KL "
        "divergence from the unit Gaussian is added to the loss.",
        {
            "latent_dim": integer(1, "Size of the latent code.", minimum=1),
            "mean": number(0.0, "Mean of the noise eps in z = mean + sigma * eps."),
            "stddev": number(
                1.0, "Standard deviation of the noise eps.", exclusiveMinimum=0
            ),
        },
    )
    noop = Entry("The decoder takes the encoder's output as it is.")
    return {
        **named(
            {"NoOpBridge": _args_object(noop), "LatentBridge": _args_object(latent)},
            "Between encoder and decoder (default NoOpBridge).",
            strings=["LatentBridge", "NoOpBridge"],
        ),
        "default": "NoOpBridge",
    }


_SUMMARIES = [
    "activations",
    "loss",
    "gradients",
    "variables",
    "learning_rate",
    "image_input",
    "image_result",
]


def _model_fields(default_loss: str) -> dict[str, JSON]:
    return {
        "graph": {"$ref": "#/definitions/graph"},
        "loss": {
            **named(
                _entries(registry.LOSSES),
                f"The loss (default {default_loss}).",
                strings=_bare(_entries(registry.LOSSES)),
            ),
            "default": {default_loss: None},
        },
        "optimizer": {
            **named(
                _entries(registry.OPTIMIZERS),
                "The optimizer (default Adam) with its learning-rate decay.",
                strings=_bare(_entries(registry.OPTIMIZERS)),
            ),
            "default": {"Adam": None},
        },
        "metrics": {
            "type": "array",
            "items": named(
                _entries(registry.METRICS),
                "A metric.",
                strings=_bare(_entries(registry.METRICS)),
            ),
            "description": "Metrics reported for training and evaluation.",
        },
        "summaries": {
            "anyOf": [
                {"const": "all"},
                {"type": "array", "items": {"enum": _SUMMARIES}, "uniqueItems": True},
            ],
            "description": "TensorBoard summaries besides loss, metrics and learning rate.",
        },
        "clip_gradients": number(
            0.5, "Clip gradients to this global norm (0 = no clipping).", minimum=0
        ),
        "clip_embed_gradients": number(
            0.1, "Clip the gradients of embeddings to this norm.", minimum=0
        ),
        "name": _string(
            "The model's name (default: the project's).",
            pattern="^([A-Za-z0-9.]|$)",
            patternErrorMessage="a model name starts with a letter, a digit or `.`",
            **forbid("^" + SCOPE, NAME_HINT),
        ),
    }


def _model() -> JSON:
    classifier = _obj(
        "A classifier.",
        {
            **_model_fields("SigmoidCrossEntropy"),
            "one_hot_encode": boolean(False, "One-hot encode the integer labels."),
            "n_classes": integer(
                None, "Number of classes (required with one_hot_encode).", minimum=2
            ),
        },
        ["graph"],
    )
    regressor = _obj("A regressor.", _model_fields("MeanSquaredError"), ["graph"])
    fields = _model_fields("MeanSquaredError")
    del fields["graph"]
    generator = _obj(
        "A generator (autoencoder): encoder -> bridge -> decoder, trained to reconstruct its input feature.",
        {
            **fields,
            "encoder": {
                "$ref": "#/definitions/graph",
                "description": "The encoder: its input_layers name the feature to reconstruct.",
            },
            "decoder": {
                "$ref": "#/definitions/decoder_graph",
                "description": "The decoder: it takes the bridge's output; its last layer is the reconstruction.",
            },
            "bridge": _bridge(),
        },
        ["encoder", "decoder"],
    )
    return named(
        {"classifier": classifier, "regressor": regressor, "generator": generator, **_rl_models()},
        "The model: exactly one kind.",
    )


def _rl_models() -> dict[str, JSON]:
    """The reinforcement-learning model kinds (plxgen.schema.rl_registry)."""
    shared = ("graph", "optimizer", "clip_gradients", "name")
    common = {k: v for k, v in _model_fields("HuberLoss").items() if k in shared}
    losses = _entries({k: registry.LOSSES[k] for k in rl_registry.Q_LOSSES})
    loss = {
        **named(losses, "The TD loss (default HuberLoss).", strings=_bare(losses)),
        "default": {"HuberLoss": None},
    }
    explorations = _entries(rl_registry.EXPLORATIONS)
    exploration = named(
        explorations,
        "How actions explore during training (default: Decay; naf: OrnsteinUhlenbeck). "
        "Evaluation is greedy.",
        strings=_bare(explorations),
    )
    return rl_registry.model_kinds(common, loss, exploration)


def _rl_sections() -> JSON:
    """`train` and `eval` of an RL file: chosen by an RL model kind, or by `train.env`."""

    def family(table: dict[str, registry.Entry], description: str) -> JSON:
        entries = _entries(table)
        return named(entries, description, strings=_bare(entries) or None)

    rl_model = {
        "description": "An RL model kind.",
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"enum": list(rl_registry.KINDS)},
    }
    return {
        "if": {
            "anyOf": [
                {"required": ["model"], "properties": {"model": rl_model}},
                {
                    "required": ["train"],
                    "properties": {
                        "train": {
                            "description": "A train section with an environment.",
                            "type": "object",
                            "required": ["env"],
                        },
                        "model": {
                            "description": "No supervised model kind.",
                            "not": {
                                "type": "object",
                                "anyOf": [
                                    {"required": ["classifier"]},
                                    {"required": ["regressor"]},
                                ],
                            },
                        },
                    },
                },
            ]
        },
        "then": {
            "properties": {
                "train": rl_registry.train_section(family),
                "eval": rl_registry.eval_section(),
            }
        },
    }


def _pipeline_section(
    description: str, steps: JSON | None, extra: dict[str, JSON]
) -> JSON:
    properties: dict[str, JSON] = {
        "data_pipeline": named(_pipelines(), "The input pipeline."),
        **extra,
    }
    if steps is not None:
        properties["steps"] = steps
    return _obj(description, properties, ["data_pipeline"])


def build_schema() -> JSON:
    """The whole Draft-07 schema of the experiment file."""
    schema = _build_schema()
    # `train` and `eval` take their shape from the model kind: supervised (a data
    # pipeline) unless the model is an RL kind or train names an environment.
    properties = schema["properties"]
    sections = _rl_sections()
    sections["else"] = {
        "properties": {"train": properties["train"], "eval": properties["eval"]}
    }
    properties["train"] = {
        "type": "object",
        "description": "Training: a data pipeline, or for RL models an environment and a memory.",
    }
    properties["eval"] = {
        "type": "object",
        "description": "Evaluation: a data pipeline, or for RL models a number of episodes.",
    }
    schema.update(sections)
    return schema


def _build_schema() -> JSON:
    definitions = {
        "layer": named(
            _layers(),
            "A Keras layer: `- Name: {arguments}` (or `- Name` when it needs none).",
            strings=_bare(_layers()),
        ),
        "graph": _graph(),
        "decoder_graph": {
            **_graph(input_required=False),
            "description": "A decoder's layers; input_layers, if given, names the bridge's output.",
        },
        "feature_processor_graph": _obj(
            "Layers applied to one feature inside the input pipeline.",
            {
                "input_layers": _no_control(
                    {
                        "anyOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"type": "string"}},
                        ],
                        "description": "The feature these processors take (its own name).",
                    }
                ),
                "layers": {
                    "type": "array",
                    "items": named(
                        _entries(registry.FEATURE_PROCESSORS),
                        "A feature processor.",
                        strings=_bare(_entries(registry.FEATURE_PROCESSORS)),
                    ),
                    "minItems": 1,
                    "description": "The operations, applied in order to each batch of the feature.",
                },
            },
            ["layers"],
        ),
        "initializer": named(
            _keyed(registry.INITIALIZERS),
            "An initializer.",
            strings=registry.INITIALIZER_STRINGS,
        ),
        "regularizer": named(
            _keyed(registry.REGULARIZERS),
            "A regularizer.",
            strings=["l1", "l2", "l1_l2"],
        ),
        "constraint": named(
            _keyed(registry.CONSTRAINTS),
            "A constraint.",
            strings=["max_norm", "non_neg", "unit_norm", "min_max_norm"],
        ),
        "activation": {
            "enum": registry.ACTIVATIONS,
            "description": "An activation, by name.",
        },
        "dtype": {"enum": registry.DTYPES, "description": "A dtype."},
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "plxgen experiment file (Polyaxon version 1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "project", "model", "train"],
        "properties": {
            "version": {"const": 1, "description": "The file format version: 1."},
            "declarations": _declarations(),
            "matrix": _matrix(),
            "project": _obj(
                "The project.",
                {
                    "name": _string(
                        "The project's name; the default model folder is named after it.",
                        minLength=1,
                        **forbid(
                            "^A-Za-z0-9_.-",
                            "use only letters, digits, `_`, `.` and `-`",
                        ),
                    ),
                    "description": _string("What the experiment is about."),
                },
                ["name"],
            ),
            "settings": _obj(
                "Settings of the run.",
                {
                    "logging": _obj(
                        "Logging.",
                        {
                            "level": enum(
                                ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                                "INFO",
                                "The log level.",
                            ),
                            "formatter": _string("A logging format string."),
                            "path": _no_control(
                                _string(
                                    "Also log to this file, relative to the config file."
                                )
                            ),
                        },
                    ),
                    "run_type": enum(
                        ["local", "kubernetes", "minikube"],
                        "local",
                        "Where the 2017 tool ran it (informational).",
                    ),
                },
            ),
            "environment": _environment(),
            "model": _model(),
            "train": _pipeline_section(
                "Training.",
                None,
                {
                    "train_steps": integer(
                        None,
                        "Optimizer steps over the whole run (default: until num_epochs run out).",
                        minimum=1,
                    )
                },
            ),
            "eval": _pipeline_section(
                "Evaluation.",
                {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "default": 10,
                    "description": "Batches per evaluation (null: the whole data).",
                },
                {
                    "delay_secs": integer(
                        0,
                        "Start evaluating during training only after this many seconds.",
                        minimum=0,
                    ),
                    "continuous_eval_throttle_secs": integer(
                        60,
                        "During training, evaluate after a checkpoint at most every N seconds.",
                        minimum=0,
                    ),
                },
            ),
        },
        "definitions": definitions,
    }


def render_schema() -> str:
    """The schema as the committed file holds it: with examples for editors."""
    from plxgen.schema.examples import annotate

    return json.dumps(annotate(build_schema()), indent=2, sort_keys=True) + "\n"


def render_docs() -> str:
    """docs/reference.md: the reference page generated from the schema."""
    from plxgen.schema.reference import render_reference

    return render_reference(json.loads(render_schema()))


def main() -> int:
    """Rewrite schemas/experiment.schema.json (or with --check, report staleness).

    With --docs, the same for docs/reference.md.
    """
    target = SCHEMAS / "experiment.schema.json"
    text = render_schema()
    if "--docs" in sys.argv[1:]:
        target, text = SCHEMAS.parent / "docs" / "reference.md", render_docs()
    if "--check" in sys.argv[1:]:
        if not target.exists() or target.read_text() != text:
            print(
                f"{target} is stale: run python -m plxgen.schema.build{' --docs' if '--docs' in sys.argv else ''}",
                file=sys.stderr,
            )
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
