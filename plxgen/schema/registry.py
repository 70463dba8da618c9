"""Name tables: every name a config may use, its arguments and 2017 defaults.

The JSON Schema is generated from these tables (`plxgen.schema.build`), and
lowering maps the same names to Keras symbols, so the two cannot drift. A
Keras symbol is only ever written into a script if it appears here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


def number(default: float | None, description: str, **bounds: float) -> JSON:
    """A float-valued argument."""
    return _with_default(
        {"type": "number", "description": description, **bounds}, default
    )


def integer(default: int | None, description: str, **bounds: int) -> JSON:
    """An int-valued argument."""
    return _with_default(
        {"type": "integer", "description": description, **bounds}, default
    )


def boolean(default: bool | None, description: str) -> JSON:
    """A bool-valued argument."""
    return _with_default({"type": "boolean", "description": description}, default)


def enum(values: list[Any], default: Any, description: str) -> JSON:
    """An argument with a fixed set of values."""
    return _with_default({"enum": values, "description": description}, default)


def _with_default(schema: JSON, default: Any) -> JSON:
    if default is not None:
        schema["default"] = default
    return schema


@dataclass(frozen=True)
class Entry:
    """One name of a family: what it means and which arguments it takes."""

    description: str
    params: dict[str, JSON] = field(default_factory=dict)
    required: tuple[str, ...] = ()


# ---------------------------------------------------------------- losses
_WEIGHTS = number(1.0, "Multiplies the loss (2017 `weights`).")
_SMOOTHING = number(0.0, "Label smoothing in [0, 1].", minimum=0, maximum=1)

LOSSES: dict[str, Entry] = {
    "AbsoluteDifference": Entry(
        "Mean absolute error (keras.losses.MeanAbsoluteError).", {"weights": _WEIGHTS}
    ),
    "MeanSquaredError": Entry(
        "Mean squared error (keras.losses.MeanSquaredError).", {"weights": _WEIGHTS}
    ),
    "LogLoss": Entry(
        "Binary cross-entropy on probabilities (keras.losses.BinaryCrossentropy, from_logits=False).",
        {
            "weights": _WEIGHTS,
            "epsilon": {
                "const": 1e-07,
                "default": 1e-07,
                "description": "Probabilities are clipped to [epsilon, 1 - epsilon]; Keras fixes it at 1e-7.",
            },
        },
    ),
    "HuberLoss": Entry(
        "Huber loss (keras.losses.Huber).",
        {
            "weights": _WEIGHTS,
            "clip": number(
                1.0,
                "The delta where the loss turns from quadratic to linear. The 2017 default 0.0 made "
                "it a plain squared error; plxgen uses 1.0, as tf.losses.huber_loss did.",
                exclusiveMinimum=0,
            ),
        },
    ),
    "ClippedDeltaLoss": Entry(
        "Squared error of (label - prediction) clipped to [clip_value_min, clip_value_max].",
        {
            "weights": _WEIGHTS,
            "clip_value_min": number(-1.0, "Lower clip of the error."),
            "clip_value_max": number(1.0, "Upper clip of the error."),
        },
    ),
    "SoftmaxCrossEntropy": Entry(
        "Softmax cross-entropy on logits (keras.losses.CategoricalCrossentropy, or the sparse "
        "variant when labels are not one-hot encoded).",
        {"weights": _WEIGHTS, "label_smoothing": _SMOOTHING},
    ),
    "SigmoidCrossEntropy": Entry(
        "Sigmoid cross-entropy on logits (keras.losses.BinaryCrossentropy, from_logits=True).",
        {"weights": _WEIGHTS, "label_smoothing": _SMOOTHING},
    ),
    "HingeLoss": Entry(
        "Hinge loss on logits, labels in {0, 1} (keras.losses.Hinge).",
        {"weights": _WEIGHTS},
    ),
    "CosineDistance": Entry(
        "Cosine distance, 1 - cos(label, prediction) (keras.losses.CosineSimilarity + 1).",
        {
            "weights": _WEIGHTS,
            "dim": integer(-1, "The axis along which the cosine is taken."),
        },
    ),
    "PoissonLoss": Entry("Poisson loss (keras.losses.Poisson).", {"weights": _WEIGHTS}),
    "KullbackLeiberDivergence": Entry(
        "Kullback-Leibler divergence (keras.losses.KLDivergence).",
        {
            "weights": _WEIGHTS,
            "dim": integer(
                -1, "The axis of the distributions; Keras uses the last one."
            ),
        },
    ),
}

# ------------------------------------------------------------ optimizers
DECAY_TYPES = [
    "exponential_decay",
    "inverse_time_decay",
    "natural_exp_decay",
    "piecewise_constant",
    "polynomial_decay",
]


def _decay_params(decay_steps: int) -> dict[str, JSON]:
    return {
        "decay_type": enum(
            DECAY_TYPES + [""],
            "",
            "Learning-rate decay, as tf.train's function of that name ('' = none).",
        ),
        "decay_rate": number(
            0.0, "The decay rate (exponential, inverse_time, natural_exp).", minimum=0
        ),
        "decay_steps": integer(decay_steps, "Decay period in steps.", minimum=1),
        "start_decay_at": integer(
            0, "The learning rate stays constant before this step.", minimum=0
        ),
        "stop_decay_at": number(
            1e10, "The learning rate stops decaying after this step.", minimum=0
        ),
        "min_learning_rate": number(
            1e-12, "The learning rate never decays below this.", minimum=0
        ),
        "staircase": boolean(False, "Decay in discrete steps of decay_steps."),
        "boundaries": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "description": "piecewise_constant: the steps where the learning rate changes.",
        },
        "values": {
            "type": "array",
            "items": {"type": "number"},
            "description": "piecewise_constant: the learning rates, one more than boundaries.",
        },
        "end_learning_rate": number(
            0.0001, "polynomial_decay: the final learning rate.", minimum=0
        ),
        "power": number(
            1.0, "polynomial_decay: the power of the polynomial.", exclusiveMinimum=0
        ),
    }


def _lr(default: float) -> JSON:
    return number(default, "The learning rate.", exclusiveMinimum=0)


OPTIMIZERS: dict[str, Entry] = {
    "SGD": Entry(
        "Gradient descent (keras.optimizers.SGD).",
        {"learning_rate": _lr(0.01), **_decay_params(100)},
    ),
    "Momentum": Entry(
        "Gradient descent with momentum (keras.optimizers.SGD).",
        {
            "learning_rate": _lr(0.001),
            "momentum": number(0.9, "Momentum.", minimum=0),
            **_decay_params(10000),
        },
    ),
    "Nestrov": Entry(
        "Nesterov momentum (keras.optimizers.SGD, nesterov=True). The 2017 spelling is kept.",
        {
            "learning_rate": _lr(0.001),
            "momentum": number(0.9, "Momentum.", minimum=0),
            **_decay_params(10000),
        },
    ),
    "RMSProp": Entry(
        "RMSProp (keras.optimizers.RMSprop; 2017 `decay` is Keras' `rho`).",
        {
            "learning_rate": _lr(0.001),
            "decay": number(
                0.9,
                "Discounting factor of the squared-gradient average (Keras: rho).",
                minimum=0,
            ),
            "momentum": number(0.0, "Momentum.", minimum=0),
            "epsilon": number(
                1e-10, "Small value to avoid a zero denominator.", exclusiveMinimum=0
            ),
            **_decay_params(10000),
        },
    ),
    "Adam": Entry(
        "Adam (keras.optimizers.Adam).",
        {
            "learning_rate": _lr(0.001),
            "beta1": number(
                0.9, "Decay rate of the first-moment estimates.", minimum=0, maximum=1
            ),
            "beta2": number(
                0.999,
                "Decay rate of the second-moment estimates.",
                minimum=0,
                maximum=1,
            ),
            "epsilon": number(
                1e-08, "Small constant for numerical stability.", exclusiveMinimum=0
            ),
            **_decay_params(10000),
        },
    ),
    "Adagrad": Entry(
        "Adagrad (keras.optimizers.Adagrad).",
        {
            "learning_rate": _lr(0.01),
            "initial_accumulator_value": number(
                0.1, "Starting value of the accumulators.", exclusiveMinimum=0
            ),
            **_decay_params(10000),
        },
    ),
    "Adadelta": Entry(
        "Adadelta (keras.optimizers.Adadelta).",
        {
            "learning_rate": _lr(0.99),
            "rho": number(0.95, "Decay rate.", minimum=0, maximum=1),
            "epsilon": number(
                1e-08, "Small constant for numerical stability.", exclusiveMinimum=0
            ),
            **_decay_params(10000),
        },
    ),
    "Ftrl": Entry(
        "FTRL-proximal (keras.optimizers.Ftrl).",
        {
            "learning_rate": _lr(3.0),
            "learning_rate_power": number(-0.5, "Must be <= 0.", maximum=0),
            "initial_accumulator_value": number(
                0.1, "Starting value of the accumulators.", minimum=0
            ),
            "l1_regularization_strength": number(
                0.0, "L1 regularization strength.", minimum=0
            ),
            "l2_regularization_strength": number(
                0.0, "L2 regularization strength.", minimum=0
            ),
            **_decay_params(10000),
        },
    ),
}

# Keras argument name for each 2017 optimizer argument that is passed through.
OPTIMIZER_KERAS: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "SGD": ("keras.optimizers.SGD", {}, {}),
    "Momentum": ("keras.optimizers.SGD", {"momentum": "momentum"}, {}),
    "Nestrov": ("keras.optimizers.SGD", {"momentum": "momentum"}, {"nesterov": True}),
    "RMSProp": (
        "keras.optimizers.RMSprop",
        {"decay": "rho", "momentum": "momentum", "epsilon": "epsilon"},
        {},
    ),
    "Adam": (
        "keras.optimizers.Adam",
        {"beta1": "beta_1", "beta2": "beta_2", "epsilon": "epsilon"},
        {},
    ),
    "Adagrad": (
        "keras.optimizers.Adagrad",
        {"initial_accumulator_value": "initial_accumulator_value"},
        {},
    ),
    "Adadelta": ("keras.optimizers.Adadelta", {"rho": "rho", "epsilon": "epsilon"}, {}),
    "Ftrl": (
        "keras.optimizers.Ftrl",
        {
            "learning_rate_power": "learning_rate_power",
            "initial_accumulator_value": "initial_accumulator_value",
            "l1_regularization_strength": "l1_regularization_strength",
            "l2_regularization_strength": "l2_regularization_strength",
        },
        {},
    ),
}

# --------------------------------------------------------------- metrics
_THRESHOLDS = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1},
        {
            "type": "array",
            "items": {"type": "number", "minimum": 0, "maximum": 1},
            "minItems": 1,
        },
    ],
    "description": "A threshold or a list of thresholds; one value is reported per threshold.",
}

METRICS: dict[str, Entry] = {
    "TruePositives": Entry(
        "Count of true positives at threshold 0.5 (keras.metrics.TruePositives)."
    ),
    "TrueNegatives": Entry(
        "Count of true negatives at threshold 0.5 (keras.metrics.TrueNegatives)."
    ),
    "FalsePositives": Entry(
        "Count of false positives at threshold 0.5 (keras.metrics.FalsePositives)."
    ),
    "FalseNegatives": Entry(
        "Count of false negatives at threshold 0.5 (keras.metrics.FalseNegatives)."
    ),
    "Mean": Entry("Mean of the predictions (keras.metrics.Mean)."),
    "Accuracy": Entry(
        "For a classifier: predicted class equals label class. For a regressor: exact equality."
    ),
    "Precision": Entry("Precision at threshold 0.5 (keras.metrics.Precision)."),
    "Recall": Entry("Recall at threshold 0.5 (keras.metrics.Recall)."),
    "AUC": Entry(
        "Area under the ROC or PR curve (keras.metrics.AUC).",
        {
            "num_thresholds": integer(
                200, "Number of thresholds of the curve.", minimum=2
            ),
            "curve": enum(["ROC", "PR"], "ROC", "Which curve."),
        },
    ),
    "SpecificityAtSensitivity": Entry(
        "Best specificity where sensitivity >= the given value (keras.metrics.SpecificityAtSensitivity).",
        {
            "sensitivity": number(
                None, "The sensitivity, in [0, 1].", minimum=0, maximum=1
            ),
            "num_thresholds": integer(200, "Number of thresholds.", minimum=1),
        },
        ("sensitivity",),
    ),
    "SensitivityAtSpecificity": Entry(
        "Best sensitivity where specificity >= the given value (keras.metrics.SensitivityAtSpecificity).",
        {
            "specificity": number(
                None, "The specificity, in [0, 1].", minimum=0, maximum=1
            ),
            "num_thresholds": integer(200, "Number of thresholds.", minimum=1),
        },
        ("specificity",),
    ),
    "PrecisionAtThresholds": Entry(
        "Precision at each threshold (keras.metrics.Precision).",
        {"thresholds": _THRESHOLDS},
        ("thresholds",),
    ),
    "RecallAtThresholds": Entry(
        "Recall at each threshold (keras.metrics.Recall).",
        {"thresholds": _THRESHOLDS},
        ("thresholds",),
    ),
    "SparseRecallAtK": Entry(
        "Recall at k for one label per example: the label is among the k best scores.",
        {"k": integer(None, "How many top classes count.", minimum=1)},
        ("k",),
    ),
    "SparsePrecisionAtK": Entry(
        "Precision at k for one label per example: (label among the k best scores) / k.",
        {"k": integer(None, "How many top classes count.", minimum=1)},
        ("k",),
    ),
    "MeanAbsoluteError": Entry(
        "Mean absolute error (keras.metrics.MeanAbsoluteError)."
    ),
    "MeanRelativeError": Entry(
        "Mean of |label - prediction| / normalizer.",
        {"normalizer": number(None, "The normalizer (non-zero).")},
        ("normalizer",),
    ),
    "MeanSquaredError": Entry("Mean squared error (keras.metrics.MeanSquaredError)."),
    "RootMeanSquaredError": Entry(
        "Root mean squared error (keras.metrics.RootMeanSquaredError)."
    ),
    "Covariance": Entry("Covariance of predictions and labels over all values seen."),
    "PearsonCorrelation": Entry(
        "Pearson correlation of predictions and labels over all values seen."
    ),
    "MeanCosineDistance": Entry(
        "Mean of 1 - cos(label, prediction) along an axis.",
        {"dim": integer(-1, "The axis along which the cosine is taken.")},
    ),
    "PercentageLess": Entry(
        "Fraction of predictions below a threshold.",
        {"threshold": number(None, "The threshold.")},
        ("threshold",),
    ),
    "MeanIOU": Entry(
        "Mean intersection-over-union of the predicted and label classes (keras.metrics.MeanIoU).",
        {
            "num_classes": integer(
                None, "Number of classes (default: the model's n_classes).", minimum=2
            )
        },
    ),
}

# ------------------------------------------------------- initializers etc.
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

REGULARIZERS: dict[str, tuple[str, Entry]] = {
    "L1": (
        "keras.regularizers.L1",
        Entry("L1 penalty.", {"l": number(0.01, "Factor.", minimum=0)}),
    ),
    "L2": (
        "keras.regularizers.L2",
        Entry("L2 penalty.", {"l": number(0.01, "Factor.", minimum=0)}),
    ),
    "L1L2": (
        "keras.regularizers.L1L2",
        Entry(
            "L1 and L2 penalties.",
            {
                "l1": number(0.01, "L1 factor.", minimum=0),
                "l2": number(0.01, "L2 factor.", minimum=0),
            },
        ),
    ),
}
# 2017 argument name -> Keras argument name
REGULARIZER_ARGS = {
    "L1": {"l": "l1"},
    "L2": {"l": "l2"},
    "L1L2": {"l1": "l1", "l2": "l2"},
}

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

# -------------------------------------------------------------- pipelines
_PIPELINE_COMMON: dict[str, JSON] = {
    "name": {
        "type": "string",
        "description": "A name for the pipeline (informational).",
    },
    "shuffle": boolean(True, "Shuffle the examples (seeded by tf_random_seed)."),
    "num_epochs": integer(
        1, "Passes over the data; training also stops at train_steps.", minimum=1
    ),
    "batch_size": integer(64, "Examples per batch.", minimum=1),
    "allow_smaller_final_batch": boolean(
        True, "Keep the last, smaller batch of the data."
    ),
    "min_after_dequeue": integer(
        5000, "Shuffle buffer: examples kept ready to draw from.", minimum=0
    ),
    "capacity": integer(
        None,
        "Shuffle buffer size (default: min_after_dequeue + 3 * batch_size).",
        minimum=1,
    ),
    "num_threads": integer(3, "Parallel calls used to decode examples.", minimum=1),
    "bucket_boundaries": {
        "type": "array",
        "items": {"type": "integer", "minimum": 1},
        "description": "Sequence pipelines: bucket examples by length (not used by image pipelines).",
    },
    "dynamic_pad": boolean(
        False, "Sequence pipelines: pad each batch to its longest example."
    ),
    "cache": boolean(
        False,
        "Keep the decoded examples in memory after the first epoch (when the data fits).",
    ),
}

_FILES: JSON = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
        },
    ],
    "description": "Files, relative to the config file.",
}
_META_DATA_FILE: JSON = {
    "type": "string",
    "minLength": 1,
    "description": "The meta_data.json written beside the records, relative to the config file.",
}
_FEATURE_PROCESSORS: JSON = {
    "type": "object",
    "additionalProperties": {"$ref": "#/definitions/feature_processor_graph"},
    "description": "Per feature, a graph of layers applied in the input pipeline.",
}
_NAME = "^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_DELIMITER: JSON = {"type": "string", "minLength": 1, "maxLength": 8}


def _pipeline(
    description: str, fields: dict[str, JSON], required: tuple[str, ...]
) -> Entry:
    return Entry(
        description,
        {**_PIPELINE_COMMON, **fields, "feature_processors": _FEATURE_PROCESSORS},
        required,
    )


PIPELINES: dict[str, Entry] = {
    "TFRecordImagePipeline": _pipeline(
        "Images in TFRecord files, TF-slim layout, described by a meta_data.json "
        "(image_format png, jpeg or raw uint8 bytes). Feature `image`.",
        {"data_files": _FILES, "meta_data_file": _META_DATA_FILE},
        ("data_files", "meta_data_file"),
    ),
    "TFRecordSequencePipeline": _pipeline(
        "tf.train.SequenceExample records whose context and sequence features are typed by "
        "`context_features_types` / `sequence_features_types` in the meta_data.json; every "
        "feature but the label is a model input.",
        {
            "data_files": _FILES,
            "meta_data_file": _META_DATA_FILE,
            "label_feature": {
                "type": "string",
                "pattern": _NAME,
                "default": "label",
                "description": "The context feature that holds the label.",
            },
        },
        ("data_files", "meta_data_file"),
    ),
    "NumpyPipeline": _pipeline(
        "Arrays of .npz files (numpy.savez), one example per row; features are named by their arrays.",
        {
            "data_files": _FILES,
            "features": {
                "type": "array",
                "items": {"type": "string", "pattern": _NAME},
                "minItems": 1,
                "uniqueItems": True,
                "default": ["x"],
                "description": "The arrays that are model inputs.",
            },
            "label": {
                "type": "string",
                "pattern": _NAME,
                "default": "y",
                "description": "The array of labels.",
            },
        },
        ("data_files",),
    ),
    "CsvPipeline": _pipeline(
        "Tabular data in CSV files with a header line: the numeric feature columns become one "
        "float32 feature `x` (in the order given), the label column the labels.",
        {
            "data_files": _FILES,
            "label_column": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "The header name of the label column.",
            },
            "feature_columns": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 200},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Header names of the feature columns (default: every other column).",
            },
            "field_delim": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1,
                "default": ",",
                "description": "The field delimiter.",
            },
        },
        ("data_files", "label_column"),
    ),
    "ParallelTextPipeline": _pipeline(
        "Line-aligned text files of token ids (2017 seq2seq input): line i of a source file is "
        "feature `source` (int64 ids, each batch padded with 0 to its longest line), line i of its "
        "target file the label: its first value (a classifier's class, a regressor's value). "
        "Empty tokens are skipped.",
        {
            "source_files": _FILES,
            "target_files": _FILES,
            "source_delimiter": {**_DELIMITER, "default": " ", "description": "Splits source lines."},
            "target_delimiter": {**_DELIMITER, "default": " ", "description": "Splits target lines."},
        },
        ("source_files", "target_files"),
    ),
    "TFRecordSourceSequencePipeline": _pipeline(
        "tf.train.Example records with a source and a target sequence (2017 seq2seq input): each "
        "an int64 id list, or text (a bytes feature) of ids split by its delimiter. The source is "
        "feature `source` (each batch padded with 0 to its longest); the target's first value the "
        "label (a classifier's class, a regressor's value).",
        {
            "files": _FILES,
            "source_field": {"type": "string", "default": "source", "description": "The source feature."},
            "target_field": {"type": "string", "default": "target", "description": "The target feature."},
            "source_delimiter": {**_DELIMITER, "default": " ", "description": "Splits a text source."},
            "target_delimiter": {**_DELIMITER, "default": " ", "description": "Splits a text target."},
        },
        ("files",),
    ),
    "ImageCaptioningPipeline": _pipeline(
        "Images with captions in tf.train.SequenceExample records (2017 im2txt layout): the "
        "context holds the encoded image, feature `image` (uint8, every image the size of the "
        "first record's), the feature list the caption ids, whose first id is the label (a "
        "classifier's class, a regressor's value).",
        {
            "files": _FILES,
            "image_field": {"type": "string", "default": "image/data", "description": "The encoded image (context)."},
            "image_format": enum(["jpg", "jpeg", "png"], "jpg", "The image encoding."),
            "caption_ids_field": {"type": "string", "default": "image/caption_ids", "description": "Caption ids (feature list)."},
            "caption_tokens_field": {
                "type": "string", "default": "image/caption", "description": "Caption tokens (not read: the ids are).",
            },
        },
        ("files",),
    ),
}  # fmt: skip
# Kinds the schema knows (the 2017 vocabulary) but lowering rejects as `not-implemented`.

_IS_RANDOM = boolean(False, "Draw it at random per example (seeded by tf_random_seed).")
COLOR_SPACES = ["rgb", "grayscale", "hsv", "yiq", "yuv"]
# 2017 tf.image.ResizeMethod numbers, then TensorFlow 2 names.
RESIZE_METHODS: dict[Any, str] = {
    0: "bilinear", 1: "nearest", 2: "bicubic", 3: "area",
    "bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic", "area": "area",
    "lanczos3": "lanczos3", "lanczos5": "lanczos5", "gaussian": "gaussian", "mitchellcubic": "mitchellcubic",
}  # fmt: skip
_SIZE: JSON = {"type": "integer", "minimum": 1, "maximum": 65536}
_BOX: JSON = {
    "type": "array",
    "items": {"type": "number", "minimum": 0, "maximum": 1},
    "minItems": 4,
    "maxItems": 4,
    "description": "[y_min, x_min, y_max, x_max], as fractions of the image.",
}
_PER_CHANNEL: JSON = {
    "anyOf": [
        {"type": "number"},
        {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 4096},
    ]
}

FEATURE_PROCESSORS: dict[str, Entry] = {
    "Cast": Entry(
        "Cast to a dtype (tf.cast).",
        {"dtype": enum(DTYPES, None, "The target dtype.")},
        ("dtype",),
    ),
    "Standardization": Entry(
        "Scale each image to zero mean and unit variance (tf.image.per_image_standardization)."
    ),
    "Reshape": Entry(
        "Reshape each example (the batch axis is kept).",
        {
            "target_shape": {
                "anyOf": [
                    {"type": "integer", "minimum": 1},
                    {
                        "type": "array",
                        "items": {"type": "integer", "minimum": -1},
                        "minItems": 1,
                    },
                ],
                "description": "The new shape of one example (a number: a flat vector, as 2017 files write 784).",
            }
        },
        ("target_shape",),
    ),
    "Resize": Entry(
        "Resize images (tf.image.resize); float32 output unless the method is nearest.",
        {
            "height": {**_SIZE, "description": "Output height."},
            "width": {**_SIZE, "description": "Output width."},
            "method": enum(list(RESIZE_METHODS), "bilinear", "Interpolation: a 2017 number (0-3) or a name."),
        },
        ("height", "width"),
    ),
    "CentralCrop": Entry(
        "Keep the central part of each image (tf.image.central_crop).",
        {"central_fraction": number(None, "The fraction of each side kept.", exclusiveMinimum=0, maximum=1)},
        ("central_fraction",),
    ),
    "RandomCrop": Entry(
        "Crop a height x width window at a random place in each image.",
        {"height": {**_SIZE, "description": "Crop height."}, "width": {**_SIZE, "description": "Crop width."}},
        ("height", "width"),
    ),
    "ExtractGlimpse": Entry(
        "A window of each image at given offsets (tf.image.extract_glimpse); float32 output.",
        {
            "size": {"type": "array", "items": _SIZE, "minItems": 2, "maxItems": 2, "description": "[height, width]."},
            "offsets": {
                "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                "description": "[y, x] of the window, the same for every image.",
            },
            "centered": boolean(True, "Offsets are relative to the image centre."),
            "normalized": boolean(True, "Offsets are fractions of the image size."),
            "uniform_noise": boolean(True, "Outside the image: uniform noise, else zeros."),
        },
        ("size", "offsets"),
    ),
    "ToBoundingBox": Entry(
        "Crop each image to a box (tf.image.crop_to_bounding_box).",
        {
            "offset_height": integer(None, "Top row of the box.", minimum=0),
            "offset_width": integer(None, "Left column of the box.", minimum=0),
            "target_height": {**_SIZE, "description": "Box height."},
            "target_width": {**_SIZE, "description": "Box width."},
        },
        ("offset_height", "offset_width", "target_height", "target_width"),
    ),
    "Flip": Entry(
        "Flip images: axis 0 up-down, axis 1 left-right.",
        {"axis": enum([0, 1], 0, "0: up-down, 1: left-right."), "is_random": _IS_RANDOM},
    ),
    "Transpose": Entry("Swap the height and width of each image (tf.image.transpose)."),
    "Rotate90": Entry(
        "Rotate images by k quarter turns counter-clockwise (random: 0-3 turns, square images).",
        {"k": integer(1, "Quarter turns.", minimum=0, maximum=3), "is_random": _IS_RANDOM},
    ),
    "ConvertColorSpace": Entry(
        "Convert images between color spaces (tf.image.rgb_to_* / *_to_rgb); float32 output.",
        {
            "from_space": enum(COLOR_SPACES, None, "The color space of the input."),
            "to_space": enum(COLOR_SPACES, None, "The color space of the output."),
        },
        ("from_space", "to_space"),
    ),
    "ConvertImagesDtype": Entry(
        "Convert images to a dtype, rescaling the values (tf.image.convert_image_dtype).",
        {
            "dtype": enum(["uint8", "uint16", "int32", "float16", "float32", "float64"], None, "The target dtype."),
            "saturate": boolean(False, "Clip before converting between integer types."),
        },
        ("dtype",),
    ),
    "AdjustBrightness": Entry(
        "Add delta to every pixel (random: a delta in [-delta, delta] per image); float32 output.",
        {"delta": number(None, "The brightness change.", minimum=-1e6, maximum=1e6), "is_random": _IS_RANDOM},
        ("delta",),
    ),
    "AdjustContrast": Entry(
        "Scale each channel's distance from its mean (tf.image.adjust_contrast); float32 output.",
        {"contrast_factor": number(None, "The contrast factor.", minimum=-1e6, maximum=1e6)},
        ("contrast_factor",),
    ),
    "AdjustHue": Entry(
        "Rotate the hue of RGB images (tf.image.adjust_hue); float32 output.",
        {"delta": number(None, "Hue change in [-1, 1].", minimum=-1, maximum=1)},
        ("delta",),
    ),
    "AdjustSaturation": Entry(
        "Scale the saturation of RGB images (tf.image.adjust_saturation); float32 output.",
        {"saturation_factor": number(None, "The saturation factor.", minimum=0, maximum=1e6)},
        ("saturation_factor",),
    ),
    "AdjustGamma": Entry(
        "Gamma correction, gain * image ** gamma (tf.image.adjust_gamma); float32 output.",
        {
            "gamma": number(1.0, "The exponent.", minimum=0, maximum=1e6),
            "gain": number(1.0, "The multiplier.", minimum=-1e6, maximum=1e6),
        },
    ),
    "DrawBoundingBoxes": Entry(
        "Draw the same boxes on every image (tf.image.draw_bounding_boxes); float32 output.",
        {
            "boxes": {"type": "array", "items": _BOX, "minItems": 1, "maxItems": 100, "description": "The boxes."},
            "colors": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                "minItems": 1,
                "maxItems": 100,
                "description": "RGBA colors cycled over the boxes (default: TensorFlow's).",
            },
        },
        ("boxes",),
    ),
    "TotalVariation": Entry(
        "Replace each image by its total variation, a float32 vector of one value "
        "(tf.image.total_variation)."
    ),
    # Keras preprocessing layers, applied to whole batches in the pipeline.
    "Rescaling": Entry(
        "x * scale + offset, as float32 (keras.layers.Rescaling).",
        {
            "scale": number(None, "The multiplier.", minimum=-1e6, maximum=1e6),
            "offset": number(0.0, "Added after scaling.", minimum=-1e6, maximum=1e6),
        },
        ("scale",),
    ),
    "Normalization": Entry(
        "(x - mean) / sqrt(variance), per channel when lists (keras.layers.Normalization).",
        {
            "mean": {**_PER_CHANNEL, "description": "The mean, or one per channel."},
            "variance": {**_PER_CHANNEL, "description": "The variance (above 0), or one per channel."},
        },
        ("mean", "variance"),
    ),
    "GaussianNoise": Entry(
        "Add zero-mean Gaussian noise drawn per example (augmentation of training data).",
        {"stddev": number(None, "Standard deviation of the noise.", minimum=0, maximum=1e6)},
        ("stddev",),
    ),
}  # fmt: skip
