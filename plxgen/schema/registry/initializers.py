"""Layer-argument families: initializers, regularizers, constraints, activations and dtypes.

Each initializer, regularizer and constraint entry names the Keras class lowering
calls (`symbol`). Initializers and constraints pass their arguments as the
config gives them (the 2017 names are Keras'); a regularizer passes every
argument, defaults filled in, under its Keras name (`renames`), and so does an
initializer for the arguments its `renames` lists: those whose 2017 default (the
tf.*_initializer's) is not Keras'.
"""

from __future__ import annotations

from plxgen.schema.registry.common import Entry, enum, integer, number

_SEED = {
    "type": ["integer", "null"],
    "description": "Random seed (default: derived from tf_random_seed).",
}
# tf.random_normal_initializer / tf.truncated_normal_initializer: stddev 1.0 (Keras: 0.05).
_MEAN_STDDEV = {
    "mean": number(0.0, "Mean."),
    "stddev": number(1.0, "Standard deviation.", minimum=0),
    "seed": _SEED,
}
_STDDEV = {"stddev": "stddev"}
INITIALIZERS: dict[str, Entry] = {
    "Zeros": Entry("All zeros.", symbol="keras.initializers.Zeros"),
    "Ones": Entry("All ones.", symbol="keras.initializers.Ones"),
    "Constant": Entry(
        "A constant.",
        {"value": number(0.0, "The value.")},
        symbol="keras.initializers.Constant",
    ),
    "Uniform": Entry(
        "Uniform in [minval, maxval).",
        {
            # tf.random_uniform_initializer: [0, 1) (Keras: [-0.05, 0.05)).
            "minval": number(0.0, "Lower bound."),
            "maxval": number(1.0, "Upper bound."),
            "seed": _SEED,
        },
        symbol="keras.initializers.RandomUniform",
        renames={"minval": "minval", "maxval": "maxval"},
    ),
    "Normal": Entry(
        "Normal distribution.",
        _MEAN_STDDEV,
        symbol="keras.initializers.RandomNormal",
        renames=_STDDEV,
    ),
    "TruncatedNormal": Entry(
        "Normal distribution truncated at two standard deviations.",
        _MEAN_STDDEV,
        symbol="keras.initializers.TruncatedNormal",
        renames=_STDDEV,
    ),
    "VarianceScaling": Entry(
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
        symbol="keras.initializers.VarianceScaling",
    ),
    "Identity": Entry(
        "Identity matrix.",
        {"gain": number(1.0, "Multiplier.")},
        symbol="keras.initializers.Identity",
    ),
    "Orthogonal": Entry(
        "Random orthogonal matrix.",
        {"gain": number(1.0, "Multiplier."), "seed": _SEED},
        symbol="keras.initializers.Orthogonal",
    ),
    "GlorotUniform": Entry(
        "Glorot uniform.", {"seed": _SEED}, symbol="keras.initializers.GlorotUniform"
    ),
    "GlorotNormal": Entry(
        "Glorot normal.", {"seed": _SEED}, symbol="keras.initializers.GlorotNormal"
    ),
    "HeUniform": Entry(
        "He uniform.", {"seed": _SEED}, symbol="keras.initializers.HeUniform"
    ),
    "HeNormal": Entry(
        "He normal.", {"seed": _SEED}, symbol="keras.initializers.HeNormal"
    ),
    "LecunUniform": Entry(
        "LeCun uniform.", {"seed": _SEED}, symbol="keras.initializers.LecunUniform"
    ),
    "LecunNormal": Entry(
        "LeCun normal.", {"seed": _SEED}, symbol="keras.initializers.LecunNormal"
    ),
}
# Keras initializer names a config may give as a plain string, as Keras accepts them.
INITIALIZER_STRINGS = [
    "zeros", "ones", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", "identity", "random_uniform",
    "random_normal", "truncated_normal", "variance_scaling",
]  # fmt: skip

REGULARIZERS: dict[str, Entry] = {
    "L1": Entry(
        "L1 penalty.",
        {"l": number(0.01, "Factor.", minimum=0)},
        symbol="keras.regularizers.L1",
        renames={"l": "l1"},
    ),
    "L2": Entry(
        "L2 penalty.",
        {"l": number(0.01, "Factor.", minimum=0)},
        symbol="keras.regularizers.L2",
        renames={"l": "l2"},
    ),
    "L1L2": Entry(
        "L1 and L2 penalties.",
        {
            "l1": number(0.01, "L1 factor.", minimum=0),
            "l2": number(0.01, "L2 factor.", minimum=0),
        },
        symbol="keras.regularizers.L1L2",
        renames={"l1": "l1", "l2": "l2"},
    ),
}
# Keras regularizer names a config may give as a plain string.
REGULARIZER_STRINGS = ["l1", "l2", "l1_l2"]

_AXIS = integer(0, "Axis of the norm.")
CONSTRAINTS: dict[str, Entry] = {
    "MaxNorm": Entry(
        "Caps the norm of the weights.",
        {
            "max_value": number(2.0, "Maximum norm.", exclusiveMinimum=0),
            "axis": _AXIS,
        },
        symbol="keras.constraints.MaxNorm",
    ),
    "NonNeg": Entry("Weights stay non-negative.", symbol="keras.constraints.NonNeg"),
    "UnitNorm": Entry(
        "Unit norm.", {"axis": _AXIS}, symbol="keras.constraints.UnitNorm"
    ),
    "MinMaxNorm": Entry(
        "Keeps the norm between bounds.",
        {
            "min_value": number(0.0, "Minimum norm.", minimum=0),
            "max_value": number(1.0, "Maximum norm.", minimum=0),
            "rate": number(1.0, "Rate of enforcement.", minimum=0, maximum=1),
            "axis": _AXIS,
        },
        symbol="keras.constraints.MinMaxNorm",
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
