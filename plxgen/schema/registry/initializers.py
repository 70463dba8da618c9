"""Layer-argument families: initializers, regularizers, constraints, activations and dtypes.

Each initializer, regularizer and constraint is `(Keras symbol, Entry)`, the
symbol being what lowering calls.
"""

from __future__ import annotations

from plxgen.schema.registry.common import Entry, enum, integer, number

_SEED = {
    "type": ["integer", "null"],
    "description": "Random seed (default: derived from tf_random_seed).",
}
INITIALIZERS: dict[str, tuple[str, Entry]] = {
    "Zeros": ("keras.initializers.Zeros", Entry("All zeros.")),
    "Ones": ("keras.initializers.Ones", Entry("All ones.")),
    "Constant": (
        "keras.initializers.Constant",
        Entry("A constant.", {"value": number(0.0, "The value.")}),
    ),
    "Uniform": (
        "keras.initializers.RandomUniform",
        Entry(
            "Uniform in [minval, maxval).",
            {
                "minval": number(-0.05, "Lower bound."),
                "maxval": number(0.05, "Upper bound."),
                "seed": _SEED,
            },
        ),
    ),
    "Normal": (
        "keras.initializers.RandomNormal",
        Entry(
            "Normal distribution.",
            {
                "mean": number(0.0, "Mean."),
                "stddev": number(0.05, "Standard deviation.", minimum=0),
                "seed": _SEED,
            },
        ),
    ),
    "TruncatedNormal": (
        "keras.initializers.TruncatedNormal",
        Entry(
            "Normal distribution truncated at two standard deviations.",
            {
                "mean": number(0.0, "Mean."),
                "stddev": number(0.05, "Standard deviation.", minimum=0),
                "seed": _SEED,
            },
        ),
    ),
    "VarianceScaling": (
        "keras.initializers.VarianceScaling",
        Entry(
            "Variance scaling.",
            {
                "scale": number(1.0, "Scaling factor.", exclusiveMinimum=0),
                "mode": enum(["fan_in", "fan_out", "fan_avg"], "fan_in", "Which fan."),
                "distribution": enum(
                    ["truncated_normal", "untruncated_normal", "uniform"],
                    "truncated_normal",
                    "Which distribution.",
                ),
                "seed": _SEED,
            },
        ),
    ),
    "Identity": (
        "keras.initializers.Identity",
        Entry("Identity matrix.", {"gain": number(1.0, "Multiplier.")}),
    ),
    "Orthogonal": (
        "keras.initializers.Orthogonal",
        Entry(
            "Random orthogonal matrix.",
            {"gain": number(1.0, "Multiplier."), "seed": _SEED},
        ),
    ),
    "GlorotUniform": (
        "keras.initializers.GlorotUniform",
        Entry("Glorot uniform.", {"seed": _SEED}),
    ),
    "GlorotNormal": (
        "keras.initializers.GlorotNormal",
        Entry("Glorot normal.", {"seed": _SEED}),
    ),
    "HeUniform": (
        "keras.initializers.HeUniform",
        Entry("He uniform.", {"seed": _SEED}),
    ),
    "HeNormal": ("keras.initializers.HeNormal", Entry("He normal.", {"seed": _SEED})),
    "LecunUniform": (
        "keras.initializers.LecunUniform",
        Entry("LeCun uniform.", {"seed": _SEED}),
    ),
    "LecunNormal": (
        "keras.initializers.LecunNormal",
        Entry("LeCun normal.", {"seed": _SEED}),
    ),
}
# Keras initializer names a config may give as a plain string, as Keras accepts them.
INITIALIZER_STRINGS = [
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", "identity", "random_uniform",
    "random_normal", "truncated_normal", "variance_scaling",
]  # fmt: skip

# `renames`: the Keras argument of each 2017 argument.
REGULARIZERS: dict[str, tuple[str, Entry]] = {
    "L1": (
        "keras.regularizers.L1",
        Entry(
            "L1 penalty.",
            {"l": number(0.01, "Factor.", minimum=0)},
            renames={"l": "l1"},
        ),
    ),
    "L2": (
        "keras.regularizers.L2",
        Entry(
            "L2 penalty.",
            {"l": number(0.01, "Factor.", minimum=0)},
            renames={"l": "l2"},
        ),
    ),
    "L1L2": (
        "keras.regularizers.L1L2",
        Entry(
            "L1 and L2 penalties.",
            {
                "l1": number(0.01, "L1 factor.", minimum=0),
                "l2": number(0.01, "L2 factor.", minimum=0),
            },
            renames={"l1": "l1", "l2": "l2"},
        ),
    ),
}
# derived from REGULARIZERS for lowering; removed when lowering reads the entries
REGULARIZER_ARGS: dict[str, dict[str, str]] = {
    name: entry.renames for name, (_, entry) in REGULARIZERS.items()
}
# Keras regularizer names a config may give as a plain string.
REGULARIZER_STRINGS = ["l1", "l2", "l1_l2"]

CONSTRAINTS: dict[str, tuple[str, Entry]] = {
    "MaxNorm": (
        "keras.constraints.MaxNorm",
        Entry(
            "Caps the norm of the weights.",
            {
                "max_value": number(2.0, "Maximum norm.", exclusiveMinimum=0),
                "axis": integer(0, "Axis of the norm."),
            },
        ),
    ),
    "NonNeg": ("keras.constraints.NonNeg", Entry("Weights stay non-negative.")),
    "UnitNorm": (
        "keras.constraints.UnitNorm",
        Entry("Unit norm.", {"axis": integer(0, "Axis of the norm.")}),
    ),
    "MinMaxNorm": (
        "keras.constraints.MinMaxNorm",
        Entry(
            "Keeps the norm between bounds.",
            {
                "min_value": number(0.0, "Minimum norm.", minimum=0),
                "max_value": number(1.0, "Maximum norm.", minimum=0),
                "rate": number(1.0, "Rate of enforcement.", minimum=0, maximum=1),
                "axis": integer(0, "Axis of the norm."),
            },
        ),
    ),
}

# Keras constraint names a config may give as a plain string.
CONSTRAINT_STRINGS = ["max_norm", "non_neg", "unit_norm", "min_max_norm"]

ACTIVATIONS = [
    "celu", "elu", "exponential", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
    "silu", "softmax", "softplus", "softsign", "sparse_plus", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink", "threshold",
]  # fmt: skip

DTYPES = [
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "string",
]
