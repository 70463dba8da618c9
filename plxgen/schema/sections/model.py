"""The model section of the experiment file: its kinds, their graphs of layers.

A supervised kind (classifier, regressor, generator) names its graph, loss,
optimizer and metrics; the reinforcement-learning kinds add theirs
(plxgen.schema.registry.rl). The layers come from schemas/keras_layers.json,
which tools/gen_keras_layers.py derives from the Keras constructors.
"""

from __future__ import annotations

from functools import lru_cache

from plxgen.schema import registry
from plxgen.schema.registry import END, JSON, Entry, boolean, integer, number, rl
from plxgen.schema.sections.shapes import (
    NAME_HINT,
    SCOPE,
    args_object,
    bare,
    entries,
    family,
    forbid,
    named,
    no_control,
    obj,
    string,
)

_LAYER_NAME: JSON = {
    "type": "string",
    "minLength": 1,
    **forbid("^" + SCOPE, NAME_HINT),
}
# Layer arguments every layer takes, besides its constructor's own.
COMMON_LAYER_ARGS: dict[str, JSON] = {
    "name": {
        **_LAYER_NAME,
        "description": "The layer's name, used by inbound_nodes.",
    },
    "trainable": boolean(True, "Whether the layer's weights are trained."),
    "dtype": {"$ref": "#/definitions/dtype"},
    "inbound_nodes": no_control(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ],
            "description": "Names of the layers (or graph inputs) feeding this one (default: the previous layer).",
        }
    ),
    "is_output": boolean(False, "Make this layer an output of the graph."),
    "tags": no_control(
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


def layer(keras_layers: JSON) -> JSON:
    """A layer of a graph, given schemas/keras_layers.json: `Name: {args}` or a bare `Name`."""
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
            for k, v in COMMON_LAYER_ARGS.items()
            if not (k == "trainable" and name in _NO_TRAINABLE)
        }
        layers[name] = args_object(entry, common)
    cast = Entry(
        "Cast the input to a dtype.",
        {"dtype": {"$ref": "#/definitions/dtype"}},
        ("dtype",),
    )
    layers["Cast"] = args_object(
        cast, {k: v for k, v in COMMON_LAYER_ARGS.items() if k != "dtype"}
    )
    return named(
        layers,
        "A Keras layer: `- Name: {arguments}` (or `- Name` when it needs none).",
        strings=bare(layers),
    )


def graph(input_required: bool = True) -> JSON:
    """A graph of layers; a decoder's need not name its inputs."""
    names = no_control(
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                # A name twice is a mistake (Keras would build the input or output twice).
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
            ]
        }
    )
    return obj(
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
            "name": no_control(string("A name for the graph.")),
        },
        ["input_layers", "layers"] if input_required else ["layers"],
    )


# A generator's bridges between encoder and decoder.
BRIDGES: dict[str, Entry] = {
    "NoOpBridge": Entry("The decoder takes the encoder's output as it is."),
    "LatentBridge": Entry(
        "A variational autoencoder's latent code: the encoder's output gives the mean and "
        "log-variance of a Gaussian; the decoder takes a sample (reparameterised) and the KL "
        "divergence from the unit Gaussian is added to the loss.",
        {
            "latent_dim": integer(1, "Size of the latent code.", minimum=1),
            "mean": number(0.0, "Mean of the noise eps in z = mean + sigma * eps."),
            "stddev": number(
                1.0, "Standard deviation of the noise eps (0: none, z is the mean, as 2017 allowed).", minimum=0
            ),
        },
    ),
}


def _bridge() -> JSON:
    """A generator's bridge between encoder and decoder."""
    return {
        **family(BRIDGES, "Between encoder and decoder (default NoOpBridge)."),
        "default": "NoOpBridge",
    }


def _model_fields(default_loss: str, values: bool = False) -> dict[str, JSON]:
    """The fields of a supervised model kind, its loss defaulting to default_loss.

    `values`: the model predicts values, not classes (a regressor, a generator):
    its examples are a loss and metrics of values.
    """
    losses = registry.LOSSES
    metrics = registry.METRICS
    # A model of values shows what it can compute; a classifier the table's examples.
    of_values: JSON = {}
    if values:
        names = [n for n, e in metrics.items() if not e.classes and not e.required]
        of_values = {"examples": [names[1:3]]}  # after Mean, which ignores the labels
    return {
        "graph": {"$ref": "#/definitions/graph"},
        "loss": {
            **family(losses, f"The loss (default {default_loss})."),
            "default": {default_loss: None},
            **({"examples": [{"HuberLoss": {"clip": 1.0}}]} if values else {}),
        },
        "optimizer": {
            **family(
                registry.OPTIMIZERS,
                "The optimizer (default Adam) with its learning-rate decay.",
            ),
            "default": {"Adam": None},
        },
        "metrics": {
            "type": "array",
            "items": family(metrics, "A metric."),
            "description": "Metrics reported for training and evaluation.",
            **of_values,
        },
        "summaries": {
            "anyOf": [
                {"const": "all"},
                {
                    "type": "array",
                    "items": {"enum": list(registry.SUMMARIES)},
                    "uniqueItems": True,
                },
            ],
            "description": "TensorBoard summaries besides loss, metrics and learning rate.",
        },
        "clip_gradients": number(
            0.5, "Clip gradients to this global norm (0 = no clipping).", minimum=0
        ),
        "clip_embed_gradients": number(
            0.1, "Clip the gradients of embeddings to this norm.", minimum=0
        ),
        "name": string(
            "The model's name (default: the project's).",
            pattern="^([A-Za-z0-9.]|" + END + ")",
            patternErrorMessage="a model name starts with a letter, a digit or `.`",
            **forbid("^" + SCOPE, NAME_HINT),
        ),
    }


def model() -> JSON:
    """`model:`: one kind, supervised (classifier, regressor, generator) or RL."""
    return named(_kinds(), "The model: exactly one kind.")


def kind_fields(kind: str) -> dict[str, JSON]:
    """The fields of one model kind as the schema declares them (lowering reads their defaults)."""
    return _fields()[kind]


@lru_cache(maxsize=1)
def _fields() -> dict[str, dict[str, JSON]]:
    # A build of its own: the schema's builder may annotate the objects it is given.
    return {kind: schema["properties"] for kind, schema in _kinds().items()}


def _kinds() -> dict[str, JSON]:
    """Each model kind's schema, supervised (classifier, regressor, generator) and RL."""
    classifier = obj(
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
    regressor = obj(
        "A regressor.", _model_fields("MeanSquaredError", values=True), ["graph"]
    )
    fields = _model_fields("MeanSquaredError", values=True)
    del fields["graph"]
    generator = obj(
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
    return {
        "classifier": classifier,
        "regressor": regressor,
        "generator": generator,
        **_rl_models(),
    }


def _rl_models() -> dict[str, JSON]:
    """The reinforcement-learning model kinds (plxgen.schema.registry.rl)."""
    shared = ("graph", "optimizer", "clip_gradients", "name")
    common = {k: v for k, v in _model_fields("HuberLoss").items() if k in shared}
    losses: dict[str, Entry] = {k: registry.LOSSES[k] for k in rl.Q_LOSSES}
    explorations = rl.EXPLORATIONS
    loss = {
        **family(losses, "The TD loss (default HuberLoss)."),
        "default": {"HuberLoss": None},
    }
    exploration = family(
        explorations,
        f"How actions explore during training (default: {rl.DISCRETE_EXPLORATION}; "
        f"naf: {rl.CONTINUOUS_EXPLORATION}). "
        "Evaluation is greedy.",
    )
    return rl.model_kinds(common, loss, exploration)


def layer_arguments() -> dict[str, JSON]:
    """The definitions layer arguments refer to: initializers, ..., activations, dtypes."""
    return {
        "initializer": named(
            entries(registry.INITIALIZERS),
            "An initializer.",
            strings=registry.INITIALIZER_STRINGS,
        ),
        "regularizer": named(
            entries(registry.REGULARIZERS),
            "A regularizer.",
            strings=registry.REGULARIZER_STRINGS,
        ),
        "constraint": named(
            entries(registry.CONSTRAINTS),
            "A constraint.",
            strings=registry.CONSTRAINT_STRINGS,
        ),
        "activation": {
            "enum": registry.ACTIVATIONS,
            "description": "An activation, by name.",
        },
        "dtype": {"enum": registry.DTYPES, "description": "A dtype."},
    }
