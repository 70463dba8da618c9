"""Metrics, their arguments and 2017 defaults, and the TensorBoard summaries a model may ask for."""

from __future__ import annotations

from plxgen.schema.registry.common import Entry, enum, integer, number

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

# TensorBoard summaries a model may ask for (`summaries:`, or `all`); `loss` and
# `learning_rate` are accepted as 2017 files list them, and always written.
SUMMARIES = (
    "loss",
    "learning_rate",
    "variables",
    "activations",
    "gradients",
    "image_input",
    "image_result",
)
