"""Metrics, their arguments and 2017 defaults, and the TensorBoard summaries a model may ask for.

Each metric entry also says how lowering computes it: the Keras metric (`symbol`,
or a variant for some label kinds, called with the renamed arguments, `fixed`
and its name), or the script's own per-example function (`function`, averaged
by keras.metrics.MeanMetricWrapper), and which label kinds it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from plxgen.schema.registry.common import Scored, Variant, enum, integer, number

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
# Metrics that threshold scores compare them with one-hot labels, not class indices.
_SCORED = ("one_hot", "binary")
# Metrics of the top classes need a classifier with n_classes.
_CLASSES = ("one_hot", "sparse")


@dataclass(frozen=True, kw_only=True)
class MetricEntry(Scored):
    """A metric, reported under `key` (default: its name in snake_case, as Keras names it).

    `per_threshold`: one Keras metric per threshold of its `thresholds`, keyed
    `<symbol>_at_<threshold>`; `nonzero`: arguments that must not be 0;
    `per_class`: what it calls for the one class of 2017's `class_id` (with
    one-hot labels), given `top_k` and `class_id`; `classes`: it needs class
    labels (it counts classes, or thresholds scores against them), which a
    model of values (a regressor, a generator) has none of.
    """

    key: str | None = None
    classes: bool = False
    per_threshold: bool = False
    nonzero: tuple[str, ...] = ()
    per_class: str | None = None


METRICS: dict[str, MetricEntry] = {
    "TruePositives": MetricEntry(
        "Count of true positives at threshold 0.5 (keras.metrics.TruePositives).",
        symbol="keras.metrics.TruePositives",
        labels=_SCORED,
        classes=True,
    ),
    "TrueNegatives": MetricEntry(
        "Count of true negatives at threshold 0.5 (keras.metrics.TrueNegatives).",
        symbol="keras.metrics.TrueNegatives",
        labels=_SCORED,
        classes=True,
    ),
    "FalsePositives": MetricEntry(
        "Count of false positives at threshold 0.5 (keras.metrics.FalsePositives).",
        symbol="keras.metrics.FalsePositives",
        labels=_SCORED,
        classes=True,
    ),
    "FalseNegatives": MetricEntry(
        "Count of false negatives at threshold 0.5 (keras.metrics.FalseNegatives).",
        symbol="keras.metrics.FalseNegatives",
        labels=_SCORED,
        classes=True,
    ),
    "Mean": MetricEntry(
        "Mean of the predictions (keras.metrics.Mean).", function="mean_prediction"
    ),
    "Accuracy": MetricEntry(
        "Predicted class equals label class (keras.metrics.CategoricalAccuracy, "
        "SparseCategoricalAccuracy or BinaryAccuracy, as the labels are).",
        labels=("one_hot", "sparse", "binary"),
        classes=True,
        by_labels={
            "one_hot": Variant("keras.metrics.CategoricalAccuracy"),
            "sparse": Variant("keras.metrics.SparseCategoricalAccuracy"),
            "binary": Variant("keras.metrics.BinaryAccuracy", fixed={"threshold": 0.5}),
        },
    ),
    "Precision": MetricEntry(
        "Precision at threshold 0.5 (keras.metrics.Precision).",
        symbol="keras.metrics.Precision",
        labels=_SCORED,
        classes=True,
    ),
    "Recall": MetricEntry(
        "Recall at threshold 0.5 (keras.metrics.Recall).",
        symbol="keras.metrics.Recall",
        labels=_SCORED,
        classes=True,
    ),
    "AUC": MetricEntry(
        "Area under the ROC or PR curve (keras.metrics.AUC).",
        {
            "num_thresholds": integer(
                200, "Number of thresholds of the curve.", minimum=2
            ),
            "curve": enum(["ROC", "PR"], "ROC", "Which curve."),
        },
        symbol="keras.metrics.AUC",
        renames={"num_thresholds": "num_thresholds", "curve": "curve"},
        labels=_SCORED,
        classes=True,
        key="auc",
    ),
    "SpecificityAtSensitivity": MetricEntry(
        "Best specificity where sensitivity >= the given value (keras.metrics.SpecificityAtSensitivity).",
        {
            "sensitivity": number(
                None, "The sensitivity, in [0, 1].", minimum=0, maximum=1
            ),
            "num_thresholds": integer(200, "Number of thresholds.", minimum=1),
        },
        ("sensitivity",),
        symbol="keras.metrics.SpecificityAtSensitivity",
        renames={"sensitivity": "sensitivity", "num_thresholds": "num_thresholds"},
        labels=_SCORED,
        classes=True,
    ),
    "SensitivityAtSpecificity": MetricEntry(
        "Best sensitivity where specificity >= the given value (keras.metrics.SensitivityAtSpecificity).",
        {
            "specificity": number(
                None, "The specificity, in [0, 1].", minimum=0, maximum=1
            ),
            "num_thresholds": integer(200, "Number of thresholds.", minimum=1),
        },
        ("specificity",),
        symbol="keras.metrics.SensitivityAtSpecificity",
        renames={"specificity": "specificity", "num_thresholds": "num_thresholds"},
        labels=_SCORED,
        classes=True,
    ),
    "PrecisionAtThresholds": MetricEntry(
        "Precision at each threshold (keras.metrics.Precision).",
        {"thresholds": _THRESHOLDS},
        ("thresholds",),
        symbol="keras.metrics.Precision",
        labels=_SCORED,
        classes=True,
        per_threshold=True,
    ),
    "RecallAtThresholds": MetricEntry(
        "Recall at each threshold (keras.metrics.Recall).",
        {"thresholds": _THRESHOLDS},
        ("thresholds",),
        symbol="keras.metrics.Recall",
        labels=_SCORED,
        classes=True,
        per_threshold=True,
    ),
    "SparseRecallAtK": MetricEntry(
        "Recall at k for one label per example: the label is among the k best scores.",
        {"k": integer(None, "How many top classes count.", minimum=1)},
        ("k",),
        symbol="keras.metrics.SparseTopKCategoricalAccuracy",
        renames={"k": "k"},
        labels=_CLASSES,
        classes=True,
        by_labels={
            "one_hot": Variant("keras.metrics.TopKCategoricalAccuracy", {"k": "k"})
        },
        # tf.metrics.recall_at_k's class_id: of the examples of that class, those
        # with the class among the k best scores.
        per_class="keras.metrics.Recall",
    ),
    "SparsePrecisionAtK": MetricEntry(
        "Precision at k for one label per example: (label among the k best scores) / k.",
        {"k": integer(None, "How many top classes count.", minimum=1)},
        ("k",),
        function="sparse_precision_at_k",
        renames={"k": "k"},
        labels=_CLASSES,
        classes=True,
        # tf.metrics.precision_at_k's class_id: of the examples with the class among
        # the k best scores, those of that class.
        per_class="keras.metrics.Precision",
    ),
    "MeanAbsoluteError": MetricEntry(
        "Mean absolute error (keras.metrics.MeanAbsoluteError).",
        symbol="keras.metrics.MeanAbsoluteError",
    ),
    "MeanRelativeError": MetricEntry(
        "Mean of |label - prediction| / normalizer.",
        {"normalizer": number(None, "The normalizer (non-zero).")},
        ("normalizer",),
        function="relative_error",
        renames={"normalizer": "normalizer"},
        nonzero=("normalizer",),
    ),
    "MeanSquaredError": MetricEntry(
        "Mean squared error (keras.metrics.MeanSquaredError).",
        symbol="keras.metrics.MeanSquaredError",
    ),
    "RootMeanSquaredError": MetricEntry(
        "Root mean squared error (keras.metrics.RootMeanSquaredError).",
        symbol="keras.metrics.RootMeanSquaredError",
    ),
    # Comoments: the script's metric of streaming moments of predictions and labels.
    "Covariance": MetricEntry(
        "Covariance of predictions and labels over all values seen.",
        symbol="Comoments",
        fixed={"correlation": False},
    ),
    "PearsonCorrelation": MetricEntry(
        "Pearson correlation of predictions and labels over all values seen.",
        symbol="Comoments",
        fixed={"correlation": True},
    ),
    "MeanCosineDistance": MetricEntry(
        "Mean of 1 - sum(label * prediction) along an axis (tf.metrics.mean_cosine_distance: normalized vectors).",
        {"dim": integer(-1, "The axis along which the cosine is taken.")},
        function="cosine_distance",
        renames={"dim": "axis"},
    ),
    "PercentageLess": MetricEntry(
        "Fraction of predictions below a threshold.",
        {"threshold": number(None, "The threshold.")},
        ("threshold",),
        function="percentage_less",
        renames={"threshold": "threshold"},
    ),
    "MeanIOU": MetricEntry(
        "Mean intersection-over-union of the predicted and label classes (keras.metrics.MeanIoU).",
        {
            "num_classes": integer(
                None, "Number of classes (default: the model's n_classes).", minimum=2
            )
        },
        labels=("one_hot", "sparse", "binary"),
        classes=True,
        by_labels={
            "one_hot": Variant(
                "keras.metrics.OneHotMeanIoU", {"num_classes": "num_classes"}
            ),
            "sparse": Variant(
                "keras.metrics.MeanIoU",
                {"num_classes": "num_classes"},
                {"sparse_y_pred": False},
            ),
            "binary": Variant(
                "keras.metrics.BinaryIoU",
                fixed={"target_class_ids": [0, 1], "threshold": 0.5},
            ),
        },
        key="mean_iou",
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
